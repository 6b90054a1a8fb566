/** Query parameters whose values are secrets (compared case-insensitively). */
const SECRET_PARAMS = new Set(['ocp-apim-subscription-key', 'authorization', 'token', 'access_token', 'key', 'sig']);

/**
 * Replaces secret query-string values in a URL or path with "[REDACTED]", keeping everything else
 * byte for byte (so logs still show the real request line).
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hashAt = url.indexOf('#', q);
  const query = url.slice(q + 1, hashAt < 0 ? undefined : hashAt);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        name = rawName;
      }
      return SECRET_PARAMS.has(name.toLowerCase()) && eq >= 0 ? `${rawName}=[REDACTED]` : pair;
    })
    .join('&');
  return url.slice(0, q + 1) + redacted + (hashAt < 0 ? '' : url.slice(hashAt));
}

/** Node lower-cases incoming header names; objects built in code may use the canonical spelling. */
export const SECRET_HEADER_NAMES = [
  'ocp-apim-subscription-key',
  'authorization',
  'cookie',
  'set-cookie',
  'Ocp-Apim-Subscription-Key',
  'Authorization',
  'Cookie',
  'Set-Cookie',
];
