/** What the CLI's HTTP clients share: one JSON exchange, with transport failures and non-JSON answers as errors. */
export interface JsonAnswer {
  status: number;
  ok: boolean;
  statusText: string;
  text: string;
  /** The parsed body; undefined when empty (or not JSON on an error status). */
  parsed: unknown;
}

export type ErrorFactory = (status: number, code: string, message: string) => Error;

export async function requestJson(url: string, init: RequestInit, base: string, fail: ErrorFactory): Promise<JsonAnswer> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw fail(0, 'ConnectionFailed', `cannot reach ${base}: ${cause}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.ok && parsed === undefined && text.trim() !== '') throw fail(res.status, 'InvalidResponse', `the server answered ${res.status} with a body that is not JSON`);
  return { status: res.status, ok: res.ok, statusText: res.statusText, text, parsed };
}
