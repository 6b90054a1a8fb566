import { request } from 'node:http';
import WebSocket from 'ws';

/**
 * Clients whose TCP source address is chosen (127.0.0.0/8 gives every test "machine" its own
 * address) and whose Host header names an Azure host while the connection goes to Parlance's
 * address: what DNS + a real network would do, without either.
 */
export interface Target {
  /** The address to connect to (Parlance's listener or a private endpoint's IP). */
  connect: string;
  port: number;
  /** Host header (e.g. westus.stt.speech.microsoft.com or my-res.cognitiveservices.azure.com). */
  host: string;
  /** Source address of the connection. */
  from: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json(): unknown;
}

export function httpCall(t: Target, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: t.connect, port: t.port, localAddress: t.from, method, path, headers: { host: t.host, ...opts.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) as unknown });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Opens a WebSocket; resolves with 101 (then closes it) or the refused upgrade's status and body. */
export function wsUpgrade(t: Target, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${t.connect}:${t.port}${path}`, { headers: { host: t.host, ...headers }, localAddress: t.from });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.on('error', (err) => reject(err));
  });
}
