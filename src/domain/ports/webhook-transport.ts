/**
 * Outbound POSTs of web hook deliveries and challenges (protocol §D.7). The adapter owns the
 * transport (schemes, no redirects, timeouts) and reads at most a few KiB of the answer.
 */
export interface WebhookTransport {
  /** Resolves with the answer's status and text (truncated); rejects when the URL cannot be reached in time. */
  post(url: string, req: { body: string; headers: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<{ status: number; text: string }>;
}
