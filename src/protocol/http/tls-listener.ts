import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../kernel/logger.js';

export interface TlsListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The server certificate (leaf first; more certificates may follow as the chain). */
  certPem: string;
  keyPem: string;
  logger: Logger;
}

export interface TlsListener {
  /** The port actually bound. */
  port: number;
  /** Stops accepting and destroys every connection it accepted, upgraded WebSockets included. */
  close(): Promise<void>;
}

/**
 * An HTTPS listener that feeds the one Fastify server, like the private-endpoint listeners do for
 * plain HTTP: TLS ends here and the decrypted requests and upgrades are handed to `target`
 * unchanged. Their socket is a TLSSocket (`encrypted` is true), so Fastify sees `https` and the
 * WebSocket routes serve `wss://` exactly as they serve `ws://`.
 */
export async function startTlsListener(target: Server, opts: TlsListenerOptions): Promise<TlsListener> {
  const server = createServer({
    cert: opts.certPem,
    key: opts.keyPem,
    minVersion: 'TLSv1.2',
    // The same request limits as the main listener (Fastify set them on `target`).
    requestTimeout: target.requestTimeout,
    headersTimeout: target.headersTimeout,
    keepAliveTimeout: target.keepAliveTimeout,
  });
  server.timeout = target.timeout;

  // Raw sockets from 'connection' (a handshake may never finish) and TLS sockets from
  // 'secureConnection' (the ones requests and upgrades run on); an upgraded socket is detached from
  // the HTTP server, so closeAllConnections() would not see it — we destroy it ourselves.
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  server.on('connection', track);
  server.on('secureConnection', track);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => target.emit('request', req, res));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (target.listenerCount('checkContinue') > 0) target.emit('checkContinue', req, res);
    else {
      res.writeContinue();
      target.emit('request', req, res);
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => target.emit('upgrade', req, socket, head));
  // A client that does not trust our CA aborts the handshake: expected, and not worth more than debug.
  server.on('tlsClientError', (err: Error, socket: Socket) => {
    opts.logger.debug({ err: err.message, remoteAddress: socket.remoteAddress }, 'TLS handshake failed');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.logger.error({ err }, 'TLS listener'));
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : opts.port;
  opts.logger.info({ host: opts.host, port }, 'listening for HTTPS and WSS');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}
