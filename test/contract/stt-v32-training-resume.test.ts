import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall } from '../helpers/net-client.js';
import { openSqlite } from '../../src/storage/sqlite/open.js';
import { SqlSpeechEntityRepository } from '../../src/storage/sql/speech-entity-repository.js';
import { baseModelId } from '../../src/domain/customspeech/base-models.js';
import type { CustomModel } from '../../src/domain/customspeech/entities.js';
import { TRAINING_TEXT } from '../fixtures/custom-speech-domain.js';

/**
 * Issue #5: training survives a restart — a model a crashed process left Running is trained again
 * when the server starts, and is never left Running.
 */
describe('Custom model training across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parlance-resume-'));
  let server: TestServer | undefined;
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a model left Running by a crash is trained to Succeeded after the restart', async () => {
    const first = await startServer({ dataDir });
    const accountId = first.app.defaultAccount.id;
    await first.close();

    // What a process killed mid-training leaves behind: the record says Running, no model files.
    const db = await openSqlite(dataDir);
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const stuck: CustomModel = {
      kind: 'model',
      id: '5d0c6c2a-1111-4e8a-9c3b-0a1b2c3d4e5f',
      accountId,
      displayName: 'interrupted',
      locale: 'en-US',
      baseModelId: baseModelId('pocketsphinx', 'en-US'),
      datasetIds: [],
      text: TRAINING_TEXT.join('\n'),
      status: 'Running',
      transcriptionDeprecation: '2099-01-01T00:00:00Z',
      createdAt: at,
      lastActionAt: at,
    };
    await new SqlSpeechEntityRepository(db).insert(stuck);
    await db.destroy();

    server = await startServer({ dataDir });
    const target = { connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' };
    let status = '';
    for (let i = 0; i < 600 && status !== 'Succeeded' && status !== 'Failed'; i++) {
      const r = await httpCall(target, 'GET', `/speechtotext/v3.2/models/${stuck.id}`, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
      assert.equal(r.status, 200);
      status = (r.json() as { status: string }).status;
      if (status !== 'Succeeded') await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(status, 'Succeeded');
  });
});
