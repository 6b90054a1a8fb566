import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { SDK_AUDIO } from '../helpers/server.js';
import { CLI, killStartedServers, startCli } from '../helpers/cli.js';

after(() => killStartedServers());

function exited(proc: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('parlance CLI', () => {
  it('serve --port 0 prints its URL, keeps generated keys across restarts, honours --key, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parlance-cli-'));
    try {
      const first = await startCli(['--port', '0', '--data-dir', dir, '--print-key', '--log-level', 'warn']);
      const key = /key1: ([0-9a-f]{32})/.exec(first.stdout())?.[1];
      assert.ok(key, 'a generated key is printed');
      const ready = await fetch(`${first.url}/ready`);
      assert.equal(ready.status, 200);
      const status = await fetch(`${first.url}/status`, { headers: { 'Ocp-Apim-Subscription-Key': key } });
      assert.equal(((await status.json()) as { apiStatus: string }).apiStatus, 'Valid');
      first.proc.kill('SIGTERM');
      assert.equal(await exited(first.proc), 0);

      // Same data directory: the same key is still valid, and the resource keeps its region (as in Azure).
      const second = await startCli(['--port', '0', '--data-dir', dir, '--log-level', 'warn'], { PARLANCE_REGION: 'northeurope' });
      assert.match(second.stdout(), /parlance westus/);
      const again = await fetch(`${second.url}/status`, { headers: { 'Ocp-Apim-Subscription-Key': key } });
      assert.equal(again.status, 200);
      second.proc.kill('SIGINT');
      assert.equal(await exited(second.proc), 0);

      // --key replaces key1.
      const third = await startCli(['--port', '0', '--data-dir', dir, '--key', 'my-own-key', '--log-level', 'warn']);
      assert.equal((await fetch(`${third.url}/status`, { headers: { 'Ocp-Apim-Subscription-Key': 'my-own-key' } })).status, 200);
      assert.equal((await fetch(`${third.url}/status`, { headers: { 'Ocp-Apim-Subscription-Key': key } })).status, 401);
      third.proc.kill('SIGTERM');
      assert.equal(await exited(third.proc), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('config file < env < flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parlance-cli-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ region: 'fromfile', port: 1, logLevel: 'warn' }));
      const s = await startCli(['--config', file, '--port', '0', '--data-dir', dir], { PARLANCE_REGION: 'fromenv' });
      assert.match(s.stdout(), /parlance fromenv: listening on http:\/\/127\.0\.0\.1:\d+/);
      s.proc.kill('SIGTERM');
      assert.equal(await exited(s.proc), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM closes open WebSocket sessions with a proper close frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parlance-cli-'));
    try {
      const s = await startCli(['--port', '0', '--data-dir', dir, '--key', 'k1', '--log-level', 'warn']);
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/speech/recognition/conversation/cognitiveservices/v1?language=en-US`, {
        headers: { 'Ocp-Apim-Subscription-Key': 'k1' },
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      s.proc.kill('SIGTERM');
      assert.equal(await closed, 1001);
      assert.equal(await exited(s.proc), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recognize and synthesize speak to a server over the wire', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parlance-cli-'));
    try {
      const s = await startCli(['--port', '0', '--data-dir', dir, '--key', 'k2', '--log-level', 'warn']);
      const once = await run(['recognize', '--url', s.url, '--key', 'k2', '--file', join(SDK_AUDIO, 'whatstheweatherlike.wav')]);
      assert.equal(once.code, 0, once.err);
      assert.match(once.out, /RECOGNIZED: What's the weather like\?/);
      const detailed = await run(['recognize', '--url', s.url, '--key', 'k2', '--format', 'detailed', '--continuous', '--file', join(SDK_AUDIO, 'TurnOnTheLamp.wav')]);
      assert.equal(detailed.code, 0, detailed.err);
      assert.match(detailed.out, /"NBest":\[/);
      // Compressed audio over the WebSocket: the first bytes are an Ogg page, decoded through ffmpeg.
      // (The JS SDK 1.52 cannot send compressed push streams in Node: its WAV-header path has no header.)
      const ogg = join(dir, 'w.ogg');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', join(SDK_AUDIO, 'whatstheweatherlike.wav'), '-c:a', 'libopus', '-b:a', '32k', ogg]);
      const compressed = await run(['recognize', '--url', s.url, '--key', 'k2', '--file', ogg]);
      assert.equal(compressed.code, 0, compressed.err);
      assert.match(compressed.out, /RECOGNIZED: What's the weather like\?/);
      // synthesize → file, then recognize that file: both commands over the wire.
      const spoken = join(dir, 'spoken.wav');
      const synth = await run(['synthesize', '--url', s.url, '--key', 'k2', '--text', 'Turn on the lights in the kitchen.', '--voice', 'en-US-JennyNeural', '--format', 'riff-16khz-16bit-mono-pcm', '--out', spoken]);
      assert.equal(synth.code, 0, synth.err);
      assert.equal(readFileSync(spoken).toString('latin1', 0, 4), 'RIFF');
      const heard = await run(['recognize', '--url', s.url, '--key', 'k2', '--file', spoken]);
      assert.match(heard.out, /RECOGNIZED: .*kitchen/i);
      const mp3 = join(dir, 'spoken.mp3');
      assert.equal((await run(['synthesize', '--url', s.url, '--key', 'k2', '--text', 'Hello.', '--format', 'audio-16khz-32kbitrate-mono-mp3', '--out', mp3])).code, 0);
      assert.ok(readFileSync(mp3).length > 500);
      const badSsml = join(dir, 'bad.xml');
      writeFileSync(badSsml, '<speak><voice name="en-US-JennyNeural">unclosed');
      const refused = await run(['synthesize', '--url', s.url, '--key', 'k2', '--ssml-file', badSsml, '--out', join(dir, 'x.wav')]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.err, /400/);
      const badKey = await run(['recognize', '--url', s.url, '--key', 'nope', '--file', join(SDK_AUDIO, 'whatstheweatherlike.wav')]);
      assert.notEqual(badKey.code, 0);
      assert.match(badKey.err, /401/);
      s.proc.kill('SIGTERM');
      await exited(s.proc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
