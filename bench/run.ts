/**
 * `npm run bench`: measures Parlance on this machine and writes docs/benchmarks.md.
 * Figures are reported as ratios against a baseline measured in the same run (DEVELOPERS.md).
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import sdk from 'microsoft-cognitiveservices-speech-sdk';
import { buildApp, type ParlanceApp } from '../src/app.js';
import { buildConfig } from '../src/config/load.js';
import { PocketSphinxEngine } from '../src/engines/pocketsphinx/index.js';
import { sql } from 'kysely';
import pino from 'pino';
import { openSqlite } from '../src/storage/sqlite/open.js';
import { SqlQuotaLedger, SqlUsageStore } from '../src/storage/sql/quota-ledger.js';
import { QuotaService } from '../src/domain/quota/quota-service.js';
import type { Account } from '../src/domain/resources/account.js';
import { systemClock } from '../src/kernel/time.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SDK_AUDIO = resolve(ROOT, '../shared/test-audio/sdk');
const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';

interface Clip {
  name: string;
  pcm: Int16Array;
  wav: Buffer;
}

function loadWav(path: string): Clip {
  const wav = readFileSync(path);
  let pos = 12;
  while (pos + 8 <= wav.length) {
    const id = wav.toString('latin1', pos, pos + 4);
    const size = wav.readUInt32LE(pos + 4);
    if (id === 'data') {
      const data = wav.subarray(pos + 8, pos + 8 + size);
      const pcm = new Int16Array(data.length / 2);
      for (let i = 0; i < pcm.length; i++) pcm[i] = data.readInt16LE(i * 2);
      return { name: path.split('/').pop() ?? path, pcm, wav };
    }
    pos += 8 + size + (size % 2);
  }
  throw new Error(`no data chunk in ${path}`);
}

const clips = (): Clip[] => [
  loadWav(join(SDK_AUDIO, 'katiesteve_mono.wav')),
  ...['0870', '0880', '0890', '0920', '0930'].map((n) => loadWav(join(LIBRIVOX, `sense_and_sensibility_01_austen_64kb-${n}.wav`))),
];

const seconds = (c: Clip): number => c.pcm.length / 16_000;

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? NaN;
}

async function rawEngineRtf(all: Clip[]): Promise<{ rtf: number; audioS: number; wallS: number }> {
  const engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 0, maxQueuedDecodes: 16 });
  await engine.ready();
  const t0 = performance.now();
  for (const c of all) await engine.decodeUtterance({ locale: 'en-US' }, c.pcm);
  const wallS = (performance.now() - t0) / 1000;
  await engine.close();
  const audioS = all.reduce((s, c) => s + seconds(c), 0);
  return { rtf: wallS / audioS, audioS, wallS };
}

async function startServer(workers: number): Promise<{ app: ParlanceApp; url: string; key: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'parlance-bench-'));
  const config = buildConfig({ host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'warn', engines: { pocketsphinx: { workers } }, limits: { maxSessions: 256 } });
  const app = await buildApp(config);
  const { port } = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: `ws://127.0.0.1:${port}`, key: app.defaultAccount.key1, dir };
}

interface SessionStats {
  firstHypothesisMs: number[];
  finalAfterEndMs: number[];
  wallS: number;
  errors: number;
}

/**
 * Continuous recognition of one clip through the SDK. `realtime`: audio pushed at 1× in 100 ms chunks
 * (latencies are measured against the wall-clock moment the audio was pushed); otherwise pushed all at
 * once with the SDK's send throttle lifted (throughput).
 */
async function sdkSession(url: string, key: string, clip: Clip, realtime: boolean): Promise<SessionStats> {
  const config = sdk.SpeechConfig.fromHost(new URL(url), key);
  if (!realtime) config.setProperty('SPEECH-TransmitLengthBeforThrottleMs', '100000000');
  const push = sdk.AudioInputStream.createPushStream(sdk.AudioStreamFormat.getWaveFormatPCM(16_000, 16, 1));
  const recognizer = new sdk.SpeechRecognizer(config, sdk.AudioConfig.fromStreamInput(push));
  const stats: SessionStats = { firstHypothesisMs: [], finalAfterEndMs: [], wallS: 0, errors: 0 };
  const bytes = Buffer.from(clip.pcm.buffer, clip.pcm.byteOffset, clip.pcm.byteLength);
  let t0 = 0;
  let hypSeenFor = -1;
  /** Wall-clock time (ms since t0) at which the audio up to `audioMs` had been pushed. */
  const pushedAt = (audioMs: number): number => (realtime ? audioMs : 0);
  await new Promise<void>((resolveDone) => {
    recognizer.recognizing = (_s, e) => {
      const startMs = e.result.offset / 10_000;
      if (startMs !== hypSeenFor) {
        hypSeenFor = startMs;
        stats.firstHypothesisMs.push(performance.now() - t0 - pushedAt(startMs));
      }
    };
    recognizer.recognized = (_s, e) => {
      if (e.result.reason !== sdk.ResultReason.RecognizedSpeech) return;
      const endMs = (e.result.offset + e.result.duration) / 10_000;
      stats.finalAfterEndMs.push(performance.now() - t0 - pushedAt(endMs));
    };
    recognizer.canceled = (_s, e) => {
      if (e.reason === sdk.CancellationReason.Error) stats.errors++;
    };
    recognizer.sessionStopped = () => {
      stats.wallS = (performance.now() - t0) / 1000;
      recognizer.stopContinuousRecognitionAsync(() => resolveDone(), () => resolveDone());
    };
    recognizer.startContinuousRecognitionAsync(
      () => {
        t0 = performance.now();
        if (!realtime) {
          push.write(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          push.close();
          return;
        }
        let pos = 0;
        const chunk = 3200;
        const timer = setInterval(() => {
          // Catch up to the wall clock so pacing stays 1× even when timers fire late.
          const due = Math.min(bytes.length, Math.floor(((performance.now() - t0) / 1000) * 32_000 / 2) * 2);
          while (pos < due) {
            const end = Math.min(due, pos + chunk);
            const piece = bytes.subarray(pos, end);
            push.write(piece.buffer.slice(piece.byteOffset, piece.byteOffset + piece.byteLength) as ArrayBuffer);
            pos = end;
          }
          if (pos >= bytes.length) {
            clearInterval(timer);
            push.close();
          }
        }, 100);
      },
      () => {
        stats.errors++;
        resolveDone();
      },
    );
  });
  recognizer.close();
  return stats;
}

const TTS_SENTENCE =
  'The quick brown fox jumps over the lazy dog while the farmer watches from the porch and drinks a cup of hot coffee every morning.';

function ssmlFor(text: string): string {
  return `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-AvaMultilingualNeural'>${text}</voice></speak>`;
}

/** Time to the first audio byte of a REST synthesis, and the total time. */
async function restTtfb(httpUrl: string, key: string, text: string): Promise<{ firstMs: number; totalMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${httpUrl}/cognitiveservices/v1`, {
    method: 'POST',
    headers: { 'Ocp-Apim-Subscription-Key': key, 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'raw-16khz-16bit-mono-pcm' },
    body: ssmlFor(text),
  });
  if (res.status !== 200 || !res.body) throw new Error(`TTS REST failed: ${res.status}`);
  let firstMs = -1;
  for await (const chunk of res.body) {
    if (firstMs < 0 && chunk.length > 0) firstMs = performance.now() - t0;
  }
  return { firstMs, totalMs: performance.now() - t0 };
}

/** Time to the first audio chunk over the SDK's WebSocket (synthesizing event). */
async function wsTtfb(httpUrl: string, key: string, text: string): Promise<number> {
  const config = sdk.SpeechConfig.fromHost(new URL(httpUrl), key);
  const synthesizer = new sdk.SpeechSynthesizer(config, null as unknown as sdk.AudioConfig);
  try {
    // Warm connection: the socket is opened by a first request, as an app reusing its synthesizer does.
    await new Promise<void>((resolve, reject) => synthesizer.speakTextAsync('Ready.', () => resolve(), (e) => reject(new Error(e))));
    let first = -1;
    const t0 = performance.now();
    synthesizer.synthesizing = () => {
      if (first < 0) first = performance.now() - t0;
    };
    await new Promise<void>((resolve, reject) => synthesizer.speakTextAsync(text, () => resolve(), (e) => reject(new Error(e))));
    return first;
  } finally {
    synthesizer.close();
  }
}

async function ttsBench(): Promise<string[]> {
  const srv = await startServer(0);
  const httpUrl = srv.url.replace('ws://', 'http://');
  const lines: string[] = [];
  try {
    await restTtfb(httpUrl, srv.key, 'Warm up.');
    const rest: number[] = [];
    const ws: number[] = [];
    for (let i = 0; i < 15; i++) {
      rest.push((await restTtfb(httpUrl, srv.key, TTS_SENTENCE)).firstMs);
      ws.push(await wsTtfb(httpUrl, srv.key, TTS_SENTENCE));
    }
    lines.push('## Text-to-speech: time to first audio (25-word sentence, default voice)', '');
    lines.push('| surface | samples | p50 | p95 |', '| --- | --- | --- | --- |');
    lines.push(`| REST (raw-16khz-16bit-mono-pcm) | ${rest.length} | ${pct(rest, 0.5).toFixed(0)} ms | ${pct(rest, 0.95).toFixed(0)} ms |`);
    lines.push(`| WebSocket via SDK (warm connection) | ${ws.length} | ${pct(ws, 0.5).toFixed(0)} ms | ${pct(ws, 0.95).toFixed(0)} ms |`);
    lines.push('');
    lines.push('## Text-to-speech throughput (REST, 25-word sentence, characters synthesized per second)', '');
    lines.push('| concurrent requests | requests | wall time | characters/s | ratio to 1 request |', '| --- | --- | --- | --- | --- |');
    let base = 0;
    for (const n of [1, 2, 4]) {
      const perClient = 6;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: n }, async () => {
          for (let i = 0; i < perClient; i++) await restTtfb(httpUrl, srv.key, TTS_SENTENCE);
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      const cps = (n * perClient * TTS_SENTENCE.length) / wall;
      if (n === 1) base = cps;
      lines.push(`| ${n} | ${n * perClient} | ${wall.toFixed(2)} s | ${cps.toFixed(0)} | ${(cps / base).toFixed(2)} |`);
    }
    lines.push('');
  } finally {
    await srv.app.close();
    rmSync(srv.dir, { recursive: true, force: true });
  }
  return lines;
}

/**
 * Cost of the pricing-tier step every recognition takes (admit: allowance sum + lease insert under
 * BEGIN IMMEDIATE; finish: release + usage upsert), against the cheapest database round trip
 * (`SELECT 1`) on the same SQLite file in the same run.
 */
async function quotaBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'parlance-bench-quota-'));
  const db = await openSqlite(dir);
  const quotas = new QuotaService({ ledger: new SqlQuotaLedger(db), usage: new SqlUsageStore(db), clock: systemClock, logger: pino({ level: 'silent' }) });
  const account = { id: 'bench', sku: 'F0', quotaOverrides: { sttConcurrency: 1_000_000 } } as unknown as Account;
  const n = 2_000;
  const time = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6 / n;
  };
  try {
    await time(() => sql`SELECT 1`.execute(db));
    const baseline = await time(() => sql`SELECT 1`.execute(db));
    const cycle = await time(async () => {
      const lease = await quotas.admitRecognition(account);
      await quotas.finishRecognition(lease, { audioMs: 0, requests: 1 });
    });
    return [
      '## Pricing-tier admission (per recognition, one process, SQLite)',
      '',
      '| step | mean time | ratio to `SELECT 1` |',
      '| --- | --- | --- |',
      `| \`SELECT 1\` round trip (baseline) | ${(baseline * 1000).toFixed(0)} µs | 1.0 |`,
      `| admit (monthly allowance sum, lease insert under BEGIN IMMEDIATE) + finish (release, usage upsert) | ${(cycle * 1000).toFixed(0)} µs | ${(cycle / baseline).toFixed(1)} |`,
      '',
      `${n} cycles each; an F0 resource, so the allowance query runs on every admission.`,
      '',
    ];
  } finally {
    await quotas.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const all = clips();
  const lines: string[] = [];
  const started = new Date().toISOString();
  process.stdout.write('raw engine RTF…\n');
  const raw = await rawEngineRtf(all);

  process.stdout.write('server + SDK throughput…\n');
  const srv = await startServer(1);
  const memBefore = process.memoryUsage().rss;
  let wall = 0;
  for (const c of all) wall += (await sdkSession(srv.url, srv.key, c, false)).wallS;
  const serverRtf = wall / raw.audioS;

  process.stdout.write('latency at 1× real time…\n');
  const first: number[] = [];
  const final: number[] = [];
  for (const c of all.slice(0, 3)) {
    const s = await sdkSession(srv.url, srv.key, c, true);
    first.push(...s.firstHypothesisMs);
    final.push(...s.finalAfterEndMs);
  }
  await srv.app.close();
  rmSync(srv.dir, { recursive: true, force: true });

  process.stdout.write('concurrent real-time sessions…\n');
  const conc = await startServer(0);
  // Memory per session: growth over the idle server (engine workers loaded, no session yet), so pooled
  // live decoders created for the sessions are counted, divided by the number of concurrent sessions.
  const idleRss = process.memoryUsage().rss;
  const concurrency: Array<{ n: number; p95: number; errors: number; rssPerSessionMb: number; ok: boolean }> = [];
  const clip = all[0];
  if (!clip) throw new Error('no clip');
  let baselineP95 = Infinity;
  for (const n of [1, 2, 3, 4, 6, 8]) {
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
    const results = await Promise.all(Array.from({ length: n }, () => sdkSession(conc.url, conc.key, clip, true)));
    clearInterval(sampler);
    const finals = results.flatMap((r) => r.finalAfterEndMs);
    const errors = results.reduce((s, r) => s + r.errors, 0);
    const p95 = pct(finals, 0.95);
    // "Sustained": every session finished without error, and finals came no more than 1.5 s later than
    // with a single session (the machine keeps up with real time instead of falling behind).
    if (n === 1) baselineP95 = p95;
    const ok = errors === 0 && finals.length >= n && p95 <= baselineP95 + 1_500;
    concurrency.push({ n, p95, errors, rssPerSessionMb: (peak - idleRss) / n / 1e6, ok });
    process.stdout.write(`  ${n} sessions: final p95 ${p95.toFixed(0)} ms, errors ${errors}\n`);
    if (!ok) break;
  }
  await conc.app.close();
  rmSync(conc.dir, { recursive: true, force: true });
  const sustained = Math.max(0, ...concurrency.filter((c) => c.ok).map((c) => c.n));

  lines.push('# Benchmarks', '');
  lines.push(`Written by \`npm run bench\` on ${started}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}.`);
  lines.push(`Audio: ${all.length} clips, ${raw.audioS.toFixed(1)} s (katiesteve_mono + 5 LibriVox clips).`, '');
  lines.push('## Speech-to-text throughput', '');
  lines.push('| path | wall time | real-time factor | ratio to raw engine |', '| --- | --- | --- | --- |');
  lines.push(`| raw engine (PocketSphinx batch decode of whole files, 1 worker) | ${raw.wallS.toFixed(2)} s | ${raw.rtf.toFixed(3)} | 1.00 |`);
  lines.push(
    `| server + SDK (continuous, audio sent unthrottled, 1 worker; live partials + final re-decode) | ${wall.toFixed(2)} s | ${serverRtf.toFixed(3)} | ${(serverRtf / raw.rtf).toFixed(2)} |`,
  );
  lines.push('');
  lines.push('## Latency at 1× real time (server + SDK, 1 worker, 3 clips)', '');
  lines.push('| measure | samples | p50 | p95 |', '| --- | --- | --- | --- |');
  lines.push(`| first hypothesis after speech start | ${first.length} | ${pct(first, 0.5).toFixed(0)} ms | ${pct(first, 0.95).toFixed(0)} ms |`);
  lines.push(`| final result after end of speech | ${final.length} | ${pct(final, 0.5).toFixed(0)} ms | ${pct(final, 0.95).toFixed(0)} ms |`);
  lines.push('');
  lines.push('Final latency includes the segmentation silence (500 ms by default) the service must observe before it knows speech ended.', '');
  lines.push(`## Concurrent real-time sessions (${cpus().length} workers, 19 s conversation each)`, '');
  lines.push('| sessions | final p95 after end of speech | errors | memory per session (peak RSS over the idle server ÷ sessions) | sustained |', '| --- | --- | --- | --- | --- |');
  for (const c of concurrency) {
    lines.push(`| ${c.n} | ${c.p95.toFixed(0)} ms | ${c.errors} | ${c.rssPerSessionMb.toFixed(1)} MB | ${c.ok ? 'yes' : 'no'} |`);
  }
  lines.push('', `Sustained on this machine: **${sustained}** concurrent real-time sessions (all finished, final p95 within 1.5 s of the single-session p95).`);
  lines.push('RSS growth per session is dominated by live decoders for partial results (≈100 MB each, created on demand and pooled; see docs/adr/0001).');
  lines.push(`Process RSS at start of the server runs: ${(memBefore / 1e6).toFixed(0)} MB (server and SDK clients share one process).`, '');
  process.stdout.write('text-to-speech…\n');
  lines.push(...(await ttsBench()));
  process.stdout.write('pricing-tier admission…\n');
  lines.push(...(await quotaBench()));
  writeFileSync(join(ROOT, 'docs/benchmarks.md'), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
