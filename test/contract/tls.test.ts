import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { WebSocket } from 'ws';
import { startTlsListener, type TlsListener } from '../../src/protocol/http/tls-listener.js';
import { DEFAULT_TLS_IPS, defaultTlsNames, loadTlsMaterial } from '../../src/security/local-ca.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { REPO_ROOT, SDK_AUDIO, startServer, type TestServer } from '../helpers/server.js';

const SUFFIXES = { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' };
const WANTED = { names: defaultTlsNames(SUFFIXES), ips: DEFAULT_TLS_IPS };

/** DNS "pointing at Parlance": every name resolves to 127.0.0.1. */
const toLoopback = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

interface Got {
  status: number;
  body: string;
}

function get(url: string, opts: https.RequestOptions = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { lookup: toLoopback, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function openWs(url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { lookup: toLoopback, ...opts } as ConstructorParameters<typeof WebSocket>[2]);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('TLS listener (local CA)', () => {
  let dataDir: string;
  let tls: { caPem: string; certPem: string; keyPem: string };
  let app: FastifyInstance;
  let listener: TlsListener;
  let base: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parlance-tls-'));
    tls = await loadTlsMaterial(dataDir, WANTED);
    app = Fastify({ forceCloseConnections: true });
    await app.register(websocket);
    app.get('/hello', async (req) => ({ protocol: req.protocol, host: req.hostname, encrypted: 'encrypted' in req.raw.socket }));
    app.get('/echo', { websocket: true }, (socket) => {
      socket.on('message', (data: Buffer) => socket.send(`echo:${data.toString()}`));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    listener = await startTlsListener(app.server, { host: '127.0.0.1', port: 0, certPem: tls.certPem, keyPem: tls.keyPem, logger: silentLogger });
    base = `:${listener.port}`;
  });

  after(async () => {
    await listener?.close();
    await app?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves HTTPS for the regional and custom-domain names with verification on', async () => {
    for (const host of ['westus.tts.speech.microsoft.com', 'westus.stt.speech.microsoft.com', 'my-res.cognitiveservices.azure.com', 'westus.api.cognitive.microsoft.com']) {
      const res = await get(`https://${host}${base}/hello`, { ca: tls.caPem, rejectUnauthorized: true });
      assert.equal(res.status, 200, host);
      assert.deepEqual(JSON.parse(res.body), { protocol: 'https', host, encrypted: true });
    }
    // By address, and as localhost.
    assert.equal((await get(`https://127.0.0.1${base}/hello`, { ca: tls.caPem })).status, 200);
    assert.equal((await get(`https://localhost${base}/hello`, { ca: tls.caPem })).status, 200);
  });

  it('upgrades WSS through the main server', async () => {
    const ws = await openWs(`wss://westus.stt.speech.microsoft.com${base}/echo`, { ca: tls.caPem });
    const reply = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('hi');
    assert.equal(await reply, 'echo:hi');
    ws.close();
  });

  it('fails verification for a client without the CA, and for a name not in the certificate', async () => {
    await assert.rejects(get(`https://westus.tts.speech.microsoft.com${base}/hello`), (err: NodeJS.ErrnoException) => {
      assert.match(err.code ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
      return true;
    });
    await assert.rejects(openWs(`wss://westus.stt.speech.microsoft.com${base}/echo`), /unable to verify|self-signed|issuer/i);
    await assert.rejects(get(`https://a.westus.stt.speech.microsoft.com${base}/hello`, { ca: tls.caPem }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    await assert.rejects(get(`https://example.com${base}/hello`, { ca: tls.caPem }), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('close() ends its connections, upgraded ones included, and leaves the main server running', async () => {
    const own = await loadTlsMaterial(dataDir, WANTED);
    const second = await startTlsListener(app.server, { host: '127.0.0.1', port: 0, certPem: own.certPem, keyPem: own.keyPem, logger: silentLogger });
    const ws = await openWs(`wss://westus.stt.speech.microsoft.com:${second.port}/echo`, { ca: tls.caPem });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const t0 = Date.now();
    await second.close();
    assert.equal(await closed, 1006);
    assert.ok(Date.now() - t0 < 2000, 'close does not wait for the WebSocket');
    await assert.rejects(get(`https://localhost:${second.port}/hello`, { ca: tls.caPem }), { code: 'ECONNREFUSED' });
    assert.equal((await get(`https://localhost${base}/hello`, { ca: tls.caPem })).status, 200);
  });
});

describe('TLS listener with the Speech SDK (child process, NODE_EXTRA_CA_CERTS)', () => {
  let server: TestServer;
  let listener: TlsListener;
  let caFile: string;
  let scriptFile: string;

  before(async () => {
    server = await startServer();
    const tls = await loadTlsMaterial(server.dataDir, WANTED);
    caFile = join(server.dataDir, 'exported-ca.pem');
    await writeFile(caFile, tls.caPem);
    listener = await startTlsListener(server.app.http.server, { host: '127.0.0.1', port: 0, certPem: tls.certPem, keyPem: tls.keyPem, logger: silentLogger });
    // The child resolves every Azure name to 127.0.0.1, as Parlance's DNS (or /etc/hosts) would.
    scriptFile = join(server.dataDir, 'sdk-client.mjs');
    await writeFile(
      scriptFile,
      `import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'package.json')).href)});
const sdk = require('microsoft-cognitiveservices-speech-sdk');
const realLookup = dns.lookup;
dns.lookup = (host, opts, cb) => {
  if (typeof opts === 'function') { cb = opts; opts = {}; }
  if (typeof opts === 'number') opts = { family: opts };
  if (/\\.(speech\\.microsoft\\.com|cognitiveservices\\.azure\\.com|api\\.cognitive\\.microsoft\\.com)$/.test(host)) {
    return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
  }
  return realLookup(host, opts, cb);
};
const [url, key, wavFile] = process.argv.slice(2);
const config = sdk.SpeechConfig.fromEndpoint(new URL(url), key);
const recognizer = new sdk.SpeechRecognizer(config, sdk.AudioConfig.fromWavFileInput(readFileSync(wavFile)));
recognizer.recognizeOnceAsync(
  (r) => {
    const out = { reason: sdk.ResultReason[r.reason], text: r.text };
    if (r.reason === sdk.ResultReason.Canceled) out.details = sdk.CancellationDetails.fromResult(r).errorDetails;
    process.stdout.write(JSON.stringify(out));
    recognizer.close();
  },
  (e) => { process.stdout.write(JSON.stringify({ reason: 'error', details: String(e) })); recognizer.close(); },
);
`,
    );
  });

  after(async () => {
    await listener?.close();
    await server?.close();
  });

  it("answers the JS SDK's fromEndpoint redirect probe (protocol §1.4) with a non-200, so the SDK dials the original URL", async () => {
    for (const path of ['/stt/speech/universal/v2', '/tts/cognitiveservices/websocket/v1']) {
      const res = await get(`https://westus.stt.speech.microsoft.com:${listener.port}${path}?language=en-US&GenerateRedirectResponse=true`, {
        ca: (await loadTlsMaterial(server.dataDir, WANTED)).caPem,
        headers: { 'Ocp-Apim-Subscription-Key': server.key },
      });
      assert.notEqual(res.status, 200, `${path}: ${res.status} ${res.body}`);
    }
  });

  function runChild(url: string, env: NodeJS.ProcessEnv): Promise<{ reason: string; text?: string; details?: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [scriptFile, url, server.key, join(SDK_AUDIO, 'whatstheweatherlike.wav')],
        { env, timeout: 60_000 },
        (err, stdout, stderr) => {
          if (err && !stdout) return reject(new Error(`${err.message}\n${stderr}`));
          try {
            resolve(JSON.parse(stdout) as { reason: string; text?: string; details?: string });
          } catch {
            reject(new Error(`child printed ${JSON.stringify(stdout)}; stderr ${stderr}`));
          }
        },
      );
    });
  }

  it('recognizes over wss://westus.stt.speech.microsoft.com when the CA is trusted', async () => {
    const url = `wss://westus.stt.speech.microsoft.com:${listener.port}/speech/recognition/interactive/cognitiveservices/v1?language=en-US`;
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: caFile };
    delete env['NODE_TLS_REJECT_UNAUTHORIZED'];
    const out = await runChild(url, env);
    assert.deepEqual(out, { reason: 'RecognizedSpeech', text: "What's the weather like?" });
  });

  it('fails to connect when the CA is not trusted', async () => {
    const url = `wss://westus.stt.speech.microsoft.com:${listener.port}/speech/recognition/interactive/cognitiveservices/v1?language=en-US`;
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    delete env['NODE_TLS_REJECT_UNAUTHORIZED'];
    const out = await runChild(url, env);
    assert.equal(out.reason, 'Canceled');
    assert.match(out.details ?? '', /unable to verify the first certificate/);
  });
});
