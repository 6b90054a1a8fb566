import { buildApp } from '../app.js';
import { loadConfig } from '../config/load.js';

export interface ServeFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  region?: string;
  key?: string;
  config?: string;
  logLevel?: string;
  printKey?: boolean;
  adminToken?: string;
  dnsPort?: string;
  trustProxy?: boolean;
  tlsPort?: string;
}

/** `parlance serve`: starts HTTP + WebSocket on one port; SIGTERM/SIGINT close gracefully. */
export async function serve(flags: ServeFlags): Promise<void> {
  const fromFlags: Record<string, unknown> = {};
  if (flags.host !== undefined) fromFlags['host'] = flags.host;
  if (flags.port !== undefined) fromFlags['port'] = flags.port;
  if (flags.dataDir !== undefined) fromFlags['dataDir'] = flags.dataDir;
  if (flags.region !== undefined) fromFlags['region'] = flags.region;
  if (flags.key !== undefined) fromFlags['key'] = flags.key;
  if (flags.logLevel !== undefined) fromFlags['logLevel'] = flags.logLevel;
  if (flags.adminToken !== undefined) fromFlags['adminToken'] = flags.adminToken;
  if (flags.dnsPort !== undefined) fromFlags['dns'] = { port: flags.dnsPort };
  if (flags.trustProxy) fromFlags['network'] = { trustProxy: true };
  if (flags.tlsPort !== undefined) fromFlags['tls'] = { port: flags.tlsPort };
  const config = loadConfig({ ...(flags.config ? { file: flags.config } : {}), flags: fromFlags });
  const app = await buildApp(config);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app.http.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.http.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const listening = await app.listen();
  const url = new URL(listening.url);
  const shownHost = url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname;
  // Printed on stdout (not the log) so scripts can wait for the "listening on" line, which comes
  // last; the key only when asked (make run).
  if (flags.printKey) {
    process.stdout.write(`key1: ${app.defaultAccount.key1}\n`);
    process.stdout.write(`try: node dist/src/cli/main.js recognize --url ws://${shownHost}:${url.port} --key ${app.defaultAccount.key1} --file some.wav\n`);
  }
  if (config.adminToken === undefined) process.stdout.write(`admin token: ${app.adminToken} (kept in ${config.dataDir}/admin-token)\n`);
  if (listening.tlsPort !== undefined) {
    process.stdout.write(`https: https://${shownHost}:${listening.tlsPort} (trust ${config.dataDir}/tls/ca.pem — parlance ca export)\n`);
  }
  if (listening.dnsPort !== undefined) process.stdout.write(`dns: udp+tcp ${config.dns.host}:${listening.dnsPort}\n`);
  process.stdout.write(`parlance ${app.defaultAccount.region}: listening on http://${shownHost}:${url.port}\n`);
}
