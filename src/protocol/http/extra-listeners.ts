import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIp } from '../../kernel/net/ip.js';
import type { Logger } from '../../kernel/logger.js';

/**
 * Extra listening addresses that feed the one Fastify server: each private endpoint's IP is an
 * address of this host that must accept connections even when the main listener is bound to a
 * single address (127.0.0.1). Requests and upgrades are handed to the main server unchanged, so the
 * socket's localAddress still tells the data plane which private endpoint was used.
 */
export class ExtraListeners {
  private readonly servers = new Map<string, Server>();
  private readonly sockets = new Set<Socket>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: Server,
    private readonly logger: Logger,
  ) {}

  /** Makes the set of extra listeners equal `addresses` (minus those the main listener already covers). Serialised. */
  reconcile(addresses: readonly string[]): Promise<void> {
    this.chain = this.chain.then(() => this.apply(addresses)).catch((err: unknown) => this.logger.error({ err }, 'private endpoint listeners'));
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await Promise.all([...this.servers.keys()].map((a) => this.stop(a)));
  }

  private mainAddress(): { address: string; port: number } | undefined {
    const a = this.target.address();
    return a && typeof a === 'object' ? { address: normalizeIp(a.address), port: a.port } : undefined;
  }

  private async apply(addresses: readonly string[]): Promise<void> {
    const main = this.mainAddress();
    if (!main) return;
    const wildcard = main.address === '0.0.0.0' || main.address === '::';
    const wanted = new Set(addresses.map(normalizeIp).filter((a) => !wildcard && a !== main.address));
    for (const a of [...this.servers.keys()]) if (!wanted.has(a)) await this.stop(a);
    for (const a of wanted) if (!this.servers.has(a)) await this.start(a, main.port);
  }

  private async start(address: string, port: number): Promise<void> {
    const server = createServer();
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.target.emit('request', req, res));
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (this.target.listenerCount('checkContinue') > 0) this.target.emit('checkContinue', req, res);
      else {
        res.writeContinue();
        this.target.emit('request', req, res);
      }
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.target.emit('upgrade', req, socket, head));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.set(address, server);
      this.logger.info({ address, port }, 'listening on a private endpoint address');
    } catch (err) {
      // An address that is not on this host (a 10.x subnet in a plain model) cannot be served; the
      // endpoint still exists in the control plane and DNS.
      this.logger.warn({ address, port, err: (err as Error).message }, 'cannot listen on private endpoint address');
    }
  }

  private async stop(address: string): Promise<void> {
    const server = this.servers.get(address);
    if (!server) return;
    this.servers.delete(address);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of this.sockets) if (normalizeIp(s.localAddress ?? '') === address) s.destroy();
    await closed;
  }
}
