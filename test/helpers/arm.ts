import { httpCall, type HttpResult } from './net-client.js';

export const SUB = '11111111-2222-3333-4444-555555555555';
export const RG = 'speech-rg';
export const API = 'api-version=2024-10-01';

export function accountPath(name: string, sub = SUB, rg = RG): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.CognitiveServices/accounts/${name}`;
}

export function networkPath(type: string, name: string, sub = SUB, rg = RG): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/${type}/${name}`;
}

/** A control-plane call over HTTP with the admin token (what `az`/ARM clients do against management.azure.com). */
export async function arm(port: number, adminToken: string, method: string, path: string, body?: unknown, address = '127.0.0.1'): Promise<HttpResult> {
  const sep = path.includes('?') ? '&' : '?';
  const res = await httpCall(
    { connect: address, port, host: 'management.azure.com', from: address },
    method,
    `${path}${sep}${API}`,
    body === undefined ? { headers: { authorization: `Bearer ${adminToken}` } } : { headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  return res;
}

/** Like arm(), but fails the test with the response body on an unexpected status. */
export async function armOk(port: number, adminToken: string, method: string, path: string, body?: unknown, address = '127.0.0.1'): Promise<unknown> {
  const res = await arm(port, adminToken, method, path, body, address);
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${res.text}`);
  return res.text ? res.json() : undefined;
}
