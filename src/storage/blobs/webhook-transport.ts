import type { WebhookTransport } from '../../domain/ports/webhook-transport.js';

/** How much of a receiver's answer is read (the challenge token; the rest is ignored). */
const MAX_ANSWER_BYTES = 4096;

/**
 * WebhookTransport over the global fetch: http and https only, redirects not followed (a 3xx is an
 * answer like any other, so a delivery is retried and a challenge fails), bounded in time, and only
 * the first few KiB of the answer read. Error messages never echo the URL's query string.
 */
export class FetchWebhookTransport implements WebhookTransport {
  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  async post(url: string, req: { body: string; headers: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<{ status: number; text: string }> {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`web hook URLs must use http or https, not ${parsed.protocol}`);
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(parsed, { method: 'POST', redirect: 'manual', signal, headers: req.headers, body: req.body });
    } catch (err) {
      const where = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
      if (timeout.aborted) throw new Error(`${where} did not answer within ${Math.round(req.timeoutMs / 1000)} seconds`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`${where} could not be reached (${cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err))})`);
    }
    return { status: res.status, text: await readSome(res) };
  }
}

async function readSome(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < MAX_ANSWER_BYTES) {
      const step = await reader.read();
      if (step.done) break;
      chunks.push(step.value);
      total += step.value.byteLength;
    }
  } catch {
    // A broken answer body: the status is what counts.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}
