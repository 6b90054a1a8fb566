import type { FastifyRequest } from 'fastify';
import type { Credentials } from '../../domain/auth/auth-service.js';
import { queryValue as queryParam } from '../shared/query.js';

const KEY_HEADER = 'ocp-apim-subscription-key';
const AUTH_HEADER = 'authorization';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Keys and tokens as the SDKs send them: headers, or the query string (the JS SDK duplicates every
 * connection header into the query; browsers can only use the query). Old JS SDKs sent the token
 * without "Bearer ", so the prefix is optional (protocol §2.1).
 */
export function credentialsFromRequest(req: FastifyRequest): Credentials {
  const creds: Credentials = {};
  const key = header(req, KEY_HEADER) ?? queryParam(req.query, KEY_HEADER);
  if (key !== undefined && key !== '') creds.subscriptionKey = key;
  const auth = header(req, AUTH_HEADER) ?? queryParam(req.query, AUTH_HEADER);
  if (auth !== undefined && auth !== '') {
    const token = auth.replace(/^bearer\s+/i, '').trim();
    if (token !== '') creds.bearerToken = token;
  }
  return creds;
}
