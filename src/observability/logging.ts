import type { LoggerOptions } from 'pino';
import { redactUrl, SECRET_HEADER_NAMES } from './redact.js';

interface RequestLike {
  method?: string;
  url?: string;
  hostname?: string;
  ip?: string;
  socket?: { remotePort?: number };
  id?: string;
}

/**
 * pino options shared by the server and the CLI. Keys and tokens never reach a log line: header
 * values are redacted by path, and URLs are logged with secret query parameters masked.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: SECRET_HEADER_NAMES.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
      censor: '[REDACTED]',
    },
    serializers: {
      req(req: RequestLike) {
        return {
          method: req.method,
          url: req.url === undefined ? undefined : redactUrl(req.url),
          host: req.hostname,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        };
      },
    },
  };
}
