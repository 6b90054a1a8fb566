import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall } from '../helpers/net-client.js';
import { accountPath, armOk } from '../helpers/arm.js';

const VOICES = '/cognitiveservices/voices/list';

async function serverWithFirewalledAccount(trustProxy: boolean): Promise<{ server: TestServer; key: string }> {
  const server = await startServer({ config: { engines: { stt: 'fake' }, tts: { engines: ['flite'] }, network: { trustProxy } } });
  await armOk(server.port, server.adminToken, 'PUT', accountPath('proxied'), {
    location: 'westus',
    kind: 'SpeechServices',
    sku: { name: 'S0' },
    properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '203.0.113.7' }] } },
  });
  const { key1 } = (await armOk(server.port, server.adminToken, 'POST', `${accountPath('proxied')}/listKeys`)) as { key1: string };
  return { server, key: key1 };
}

/** X-Forwarded-For decides the client address only when the operator says a proxy is in front (--trust-proxy). */
describe('Client address behind a proxy', () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  const voices = (server: TestServer, key: string, forwardedFor?: string) =>
    httpCall({ connect: '127.0.0.1', port: server.port, host: 'westus.tts.speech.microsoft.com', from: '127.0.0.1' }, 'GET', VOICES, {
      headers: { 'Ocp-Apim-Subscription-Key': key, ...(forwardedFor ? { 'X-Forwarded-For': forwardedFor } : {}) },
    });

  let trusted: { server: TestServer; key: string };
  let untrusted: { server: TestServer; key: string };
  before(async () => {
    trusted = await serverWithFirewalledAccount(true);
    untrusted = await serverWithFirewalledAccount(false);
    servers.push(trusted.server, untrusted.server);
  });

  it('with --trust-proxy the forwarded address is judged by the IP rules', async () => {
    assert.equal((await voices(trusted.server, trusted.key, '203.0.113.7')).status, 200);
    assert.equal((await voices(trusted.server, trusted.key, '198.51.100.1')).status, 403);
    assert.equal((await voices(trusted.server, trusted.key)).status, 403);
  });

  it('without it a forged X-Forwarded-For changes nothing', async () => {
    assert.equal((await voices(untrusted.server, untrusted.key, '203.0.113.7')).status, 403);
  });
});
