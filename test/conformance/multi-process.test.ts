import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accountPath, armOk } from '../helpers/arm.js';
import { killStartedServers, startCli, type StartedServer } from '../helpers/cli.js';
import { openRecognitionSocket, paddedWeatherWav, restRecognize, sendTurn, silentWav } from '../helpers/tiers.js';
import type { TestServer } from '../helpers/server.js';

const ADMIN = 'multi-process-admin-token-0123456789';

/** What the tier helpers need of a server: its port and URLs. */
function asTarget(s: StartedServer): TestServer {
  const port = Number(new URL(s.url).port);
  return { port, httpUrl: s.url, wsUrl: s.url.replace('http', 'ws'), adminToken: ADMIN } as TestServer;
}

async function until(pred: () => Promise<boolean>, what: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await pred())) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

describe('two Parlance processes on one database share the limits and the usage (issue #6 item 7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parlance-multi-'));
  after(() => {
    killStartedServers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a slot taken in one process is refused in the other, paced across them, and freed by the lease TTL when its process is killed', async () => {
    const env = { PARLANCE_ENGINES__POCKETSPHINX__WORKERS: '1', PARLANCE_TTS__ENGINES: 'flite' };
    const args = ['--port', '0', '--data-dir', dir, '--admin-token', ADMIN, '--log-level', 'warn'];
    // One after the other: the second finds the schema migrated.
    const a = asTarget(await startCli(args, env));
    const bProc = await startCli(args, env);
    const b = asTarget(bProc);

    await armOk(a.port, ADMIN, 'PUT', accountPath('shared'), { location: 'westus', kind: 'SpeechServices', sku: { name: 'S0' }, properties: {} });
    await armOk(a.port, ADMIN, 'PATCH', `${accountPath('shared')}/limits`, { sttConcurrency: 1 });
    const { key1: key } = (await armOk(b.port, ADMIN, 'POST', `${accountPath('shared')}/listKeys`)) as { key1: string };

    // A connection held in A: B refuses, and admits once it is closed.
    const held = await openRecognitionSocket(a, key);
    assert.ok('ws' in held, 'admitted in A');
    const refused = await openRecognitionSocket(b, key);
    assert.ok('status' in refused && refused.status === 429, 'refused in B while A holds the slot');
    held.ws.close();
    await until(async () => (await restRecognize(b, key, silentWav(300))).status === 200, 'B admits after A closed', 5_000);
    await sleep(400);

    // Pacing across processes: 5 s of audio sent to A at once keeps B refusing until it has played.
    const paced = await openRecognitionSocket(a, key);
    assert.ok('ws' in paced, JSON.stringify(paced));
    const t0 = Date.now();
    sendTurn(paced.ws, 'c'.repeat(32), paddedWeatherWav(5_000).wav, false);
    await sleep(300);
    paced.ws.close();
    await sleep(300);
    assert.equal((await restRecognize(b, key, silentWav(300))).status, 429, 'B refuses while A paces');
    await until(async () => (await restRecognize(b, key, silentWav(300))).status === 200, 'B admits after the audio duration', 10_000);
    assert.ok(Date.now() - t0 >= 5_000 - 200, `admitted after ${Date.now() - t0} ms, not before the 5 s of audio`);

    // Usage written by one process is read by the other.
    const usage = (await armOk(a.port, ADMIN, 'GET', `${accountPath('shared')}/usages`)) as { value: { name: { value: string }; currentValue: number }[] };
    const requests = usage.value.find((u) => u.name.value === 'SpeechServices.SpeechToText.Requests')?.currentValue ?? 0;
    assert.ok(requests >= 3, `B's REST recognitions and A's turn counted, read through A: ${requests}`);

    // A process killed while holding a slot: the other refuses until the lease expires (30 s TTL).
    await sleep(400);
    const orphan = await openRecognitionSocket(b, key);
    assert.ok('ws' in orphan, 'admitted in B');
    bProc.proc.kill('SIGKILL');
    await sleep(200);
    assert.equal((await restRecognize(a, key, silentWav(300))).status, 429, 'the dead process still holds its slot');
    const waited = await until(async () => (await restRecognize(a, key, silentWav(300))).status === 200, 'the lease of the killed process expires', 45_000);
    process.stdout.write(`# slot of a killed process free again after ${waited} ms\n`);
    assert.ok(waited >= 15_000, 'not before the lease TTL (renewed every 10 s, 30 s long)');
  });
});
