import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApp, type AppOverrides, type ParlanceApp } from '../../src/app.js';
import { buildConfig } from '../../src/config/load.js';

export { REPO_ROOT, SDK_AUDIO, PS_TESTDATA } from './paths.js';

export interface TestServer {
  app: ParlanceApp;
  port: number;
  key: string;
  key2: string;
  /** The DNS server's port, when the config enables it. */
  dnsPort?: number;
  adminToken: string;
  /** http://127.0.0.1:PORT */
  httpUrl: string;
  /** ws://127.0.0.1:PORT */
  wsUrl: string;
  dataDir: string;
  /** Every log line written so far (for redaction checks). */
  logs: string[];
  close(): Promise<void>;
}

/** A real server on port 0 with its own temp data directory. */
export async function startServer(opts: { config?: Record<string, unknown>; overrides?: AppOverrides; dataDir?: string; host?: string } = {}): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'parlance-test-'));
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const config = buildConfig({
    host,
    port: 0,
    dataDir,
    logLevel: 'info',
    engines: { pocketsphinx: { workers: 2 } },
    limits: { shutdownGraceMs: 500 },
    ...opts.config,
  });
  const app = await buildApp(config, { logStream, ...opts.overrides });
  const { port, dnsPort } = await app.listen({ host, port: 0 });
  return {
    ...(dnsPort !== undefined ? { dnsPort } : {}),
    adminToken: app.adminToken,
    app,
    port,
    key: app.defaultAccount.key1,
    key2: app.defaultAccount.key2,
    httpUrl: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}`,
    dataDir,
    logs,
    async close() {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
