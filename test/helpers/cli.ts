import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

export interface StartedServer {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Kills every `parlance serve` a test started and left running (call from `after`). */
export function killStartedServers(): void {
  for (const p of running) p.kill('SIGKILL');
}

/** `parlance serve …` in a child process; resolves once it printed its URL. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<StartedServer> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], { env: { ...process.env, ...env } });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', () => undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    proc.stdout.on('data', () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], stdout: () => out });
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}
