import { apiTimestamp } from './common.js';
import { buildWavHeader } from '../../kernel/audio/wav.js';
import { newUuid } from '../../kernel/ids.js';
import type { Clock } from '../../kernel/time.js';
import { Errors } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { ContentLogEntry, ContentLogSink } from '../ports/content-log.js';
import type { SpeechEntityRepository } from '../ports/repositories.js';
import type { EndpointLog } from './entities.js';

/** Azure keeps endpoint content logs for 30 days. */
export const LOG_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Content logs of custom endpoints (seed 003 "View logging data"): every recognition on an endpoint
 * with logging on keeps its audio (WAV, 16 kHz mono) and its results (JSON); listed per endpoint,
 * deleted by id or up to a day, and purged after 30 days by the clock.
 */
export class EndpointLogService implements ContentLogSink {
  constructor(
    private readonly repo: SpeechEntityRepository,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  async record(entry: ContentLogEntry): Promise<void> {
    const id = newUuid();
    const samples = entry.pcm.reduce((n, c) => n + c.length, 0);
    const header = buildWavHeader({ sampleRate: 16_000, channels: 1, encoding: 'pcm-s16' }, samples * 2);
    const audioKey = `endpoint-logs/${entry.endpointId}/${id}.wav`;
    const resultKey = `endpoint-logs/${entry.endpointId}/${id}.json`;
    const audio = await this.blobs.put(
      audioKey,
      (async function* () {
        yield header;
        for (const c of entry.pcm) yield new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
      })(),
    );
    const result = await this.blobs.put(resultKey, Buffer.from(JSON.stringify({ locale: entry.locale, phrases: entry.phrases }, null, 2)));
    const log: EndpointLog = {
      kind: 'endpointLog',
      id,
      accountId: entry.accountId,
      endpointId: entry.endpointId,
      createdAt: apiTimestamp(entry.startedAtMs),
      audioKey,
      audioBytes: audio.size,
      durationMs: Math.round(samples / 16),
      resultKey,
      resultBytes: result.size,
    };
    await this.repo.insert(log);
  }

  /** The endpoint's logs, oldest first, after dropping those past retention. */
  async list(accountId: string, endpointId: string): Promise<EndpointLog[]> {
    await this.purgeExpired(accountId);
    return (await this.repo.list(accountId, 'endpointLog')).filter((l) => l.endpointId === endpointId.toLowerCase());
  }

  async get(accountId: string, endpointId: string, logId: string): Promise<EndpointLog> {
    const found = (await this.list(accountId, endpointId)).find((l) => l.id === logId.toLowerCase());
    if (!found) throw Errors.notFound(`Log ${logId} was not found.`);
    return found;
  }

  async delete(accountId: string, endpointId: string, logId: string): Promise<void> {
    const found = (await this.list(accountId, endpointId)).find((l) => l.id === logId.toLowerCase());
    if (found) await this.remove(found);
  }

  /** DELETE …/files/logs?endDate=YYYY-MM-DD: every log of that day (UTC) and before. */
  async deleteUpTo(accountId: string, endpointId: string, endDate: string): Promise<number> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(endDate) || Number.isNaN(Date.parse(`${endDate}T00:00:00Z`))) {
      throw Errors.invalidArgument(`endDate must be a day as yyyy-mm-dd, got '${endDate}'.`, { innerCode: 'InvalidParameterValue' });
    }
    const limit = Date.parse(`${endDate}T00:00:00Z`) + 24 * 3600_000;
    let n = 0;
    for (const l of await this.list(accountId, endpointId)) {
      if (Date.parse(l.createdAt) < limit) {
        await this.remove(l);
        n++;
      }
    }
    return n;
  }

  async deleteAll(accountId: string, endpointId: string): Promise<void> {
    for (const l of await this.list(accountId, endpointId)) await this.remove(l);
  }

  private async purgeExpired(accountId: string): Promise<void> {
    const cutoff = this.clock.now() - LOG_RETENTION_MS;
    for (const l of await this.repo.list(accountId, 'endpointLog')) if (Date.parse(l.createdAt) < cutoff) await this.remove(l);
  }

  private async remove(l: EndpointLog): Promise<void> {
    await this.blobs.delete(l.audioKey);
    await this.blobs.delete(l.resultKey);
    await this.repo.delete(l.accountId, 'endpointLog', l.id);
  }
}
