import type { Account } from '../../domain/resources/account.js';
import type { UsageRow } from '../../domain/ports/quota.js';

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels: Record<string, string>; value: number }[];
}

/** Prometheus text exposition format 0.0.4: label values escape backslash, quote and newline. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${f.name}{${labels}} ${Number.isInteger(s.value) ? String(s.value) : s.value.toFixed(3)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The usage counters (persisted, so the same from every process on the database) and live quota
 * gauges as Prometheus metrics. Resources are labelled by name; counters of deleted resources keep
 * their internal id. Keys never appear.
 */
export function metricsText(
  rows: readonly UsageRow[],
  accounts: readonly Account[],
  live: readonly { account: Account; recognitionsInUse: number; concurrencyLimit: number }[],
): string {
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  const byEndpoint = (r: UsageRow): Record<string, string> => ({ account: names.get(r.accountId) ?? r.accountId, endpoint: r.endpointId });
  const counter = (name: string, help: string, value: (r: UsageRow) => number): Family => ({
    name,
    help,
    type: 'counter',
    samples: rows.map((r) => ({ labels: byEndpoint(r), value: value(r) })),
  });
  return render([
    counter('parlance_stt_audio_seconds_total', 'Audio received by real-time recognitions, in seconds.', (r) => r.sttAudioMs / 1000),
    counter('parlance_stt_requests_total', 'Real-time recognition requests (REST requests and WebSocket turns).', (r) => r.sttRequests),
    counter('parlance_tts_characters_total', 'Characters synthesized (SSML text without markup).', (r) => r.ttsCharacters),
    counter('parlance_tts_requests_total', 'Text-to-speech requests served.', (r) => r.ttsRequests),
    counter('parlance_throttled_requests_total', 'Requests refused by a pricing-tier limit (concurrency, call rate or monthly allowance).', (r) => r.throttled),
    {
      name: 'parlance_stt_concurrent_recognitions',
      help: 'Real-time recognition slots taken now (including slots held for real-time pacing).',
      type: 'gauge',
      samples: live.map((l) => ({ labels: { account: l.account.name }, value: l.recognitionsInUse })),
    },
    {
      name: 'parlance_stt_concurrency_limit',
      help: 'Real-time recognition concurrency limit of the resource.',
      type: 'gauge',
      samples: live.map((l) => ({ labels: { account: l.account.name }, value: l.concurrencyLimit })),
    },
  ]);
}
