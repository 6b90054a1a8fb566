import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, buildConfig, configFromEnv, loadConfig } from '../../src/config/load.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parlance-config-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function throwsConfigError(fn: () => unknown, mentions: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    assert.match(err.message, mentions);
    return true;
  });
}

describe('loadConfig: precedence', () => {
  it('defaults when nothing is given', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.port, 5000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.region, 'westus');
    assert.equal(c.key, undefined);
    assert.equal(c.limits.maxSessions, 64);
    assert.equal(c.engines.stt, 'pocketsphinx');
    assert.equal(c.engines.pocketsphinx.workers, 0);
    assert.equal(c.recognition.segmentationSilenceTimeoutMs, 500);
  });

  it('defaults < file < env < flags', () => {
    const file = writeJson('layers.json', {
      port: 6001,
      host: '0.0.0.0',
      logLevel: 'warn',
      limits: { maxSessions: 10, wsIdleTimeoutMs: 60_000 },
      engines: { pocketsphinx: { workers: 2, liveDecodersPerWorker: 1 } },
    });
    const env = { PARLANCE_PORT: '6002', PARLANCE_LIMITS__MAX_SESSIONS: '20', PARLANCE_ENGINES__POCKETSPHINX__WORKERS: '3' };

    const fileOnly = loadConfig({ file, env: {} });
    assert.equal(fileOnly.port, 6001);
    assert.equal(fileOnly.limits.maxSessions, 10);
    assert.equal(fileOnly.engines.pocketsphinx.workers, 2);

    const withEnv = loadConfig({ file, env });
    assert.equal(withEnv.port, 6002);
    assert.equal(withEnv.limits.maxSessions, 20);
    assert.equal(withEnv.engines.pocketsphinx.workers, 3);
    // Siblings from the file survive the env's deep merge; untouched values keep defaults.
    assert.equal(withEnv.host, '0.0.0.0');
    assert.equal(withEnv.logLevel, 'warn');
    assert.equal(withEnv.limits.wsIdleTimeoutMs, 60_000);
    assert.equal(withEnv.engines.pocketsphinx.liveDecodersPerWorker, 1);
    assert.equal(withEnv.engines.pocketsphinx.maxQueuedDecodes, 64);
    assert.equal(withEnv.limits.restMaxAudioSeconds, 60);

    const withFlags = loadConfig({ file, env, flags: { port: 6003, limits: { maxSessions: 30 } } });
    assert.equal(withFlags.port, 6003);
    assert.equal(withFlags.limits.maxSessions, 30);
    assert.equal(withFlags.engines.pocketsphinx.workers, 3, 'env still applies where flags say nothing');
    assert.equal(withFlags.limits.wsIdleTimeoutMs, 60_000);
  });

  it('env values are converted to numbers', () => {
    const c = loadConfig({
      env: {
        PARLANCE_PORT: '8080',
        PARLANCE_LIMITS__MAX_SESSIONS: '7',
        PARLANCE_ENGINES__POCKETSPHINX__WORKERS: '4',
        PARLANCE_RECOGNITION__MAX_UTTERANCE_MS: '30000',
      },
    });
    assert.equal(c.port, 8080);
    assert.equal(typeof c.port, 'number');
    assert.equal(c.limits.maxSessions, 7);
    assert.equal(typeof c.limits.maxSessions, 'number');
    assert.equal(c.engines.pocketsphinx.workers, 4);
    assert.equal(c.recognition.maxUtteranceMs, 30_000);
  });

  it('env names map to camelCase paths; other variables and PARLANCE_CONFIG are not settings', () => {
    assert.deepEqual(
      configFromEnv({
        PARLANCE_DATA_DIR: '/var/lib/parlance',
        PARLANCE_LOG_LEVEL: 'debug',
        PARLANCE_LIMITS__WS_MAX_PAYLOAD_BYTES: '2048',
        PARLANCE_CONFIG: '/etc/parlance.json',
        HOME: '/root',
        parlance_port: '1',
      }),
      { dataDir: '/var/lib/parlance', logLevel: 'debug', limits: { wsMaxPayloadBytes: '2048' } },
    );
    const c = loadConfig({ env: { PARLANCE_DATA_DIR: '/tmp/x', PARLANCE_LOG_LEVEL: 'debug', PARLANCE_ENGINES__STT: 'fake' } });
    assert.equal(c.dataDir, '/tmp/x');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.engines.stt, 'fake');
  });

  it('PARLANCE_CONFIG names the file when no file option is given; the option wins', () => {
    const a = writeJson('a.json', { port: 7001 });
    const b = writeJson('b.json', { port: 7002 });
    assert.equal(loadConfig({ env: { PARLANCE_CONFIG: a } }).port, 7001);
    assert.equal(loadConfig({ file: b, env: { PARLANCE_CONFIG: a } }).port, 7002);
  });

  it('undefined flags (options not given on the command line) do not override', () => {
    const c = loadConfig({ env: { PARLANCE_PORT: '6100' }, flags: { port: undefined, host: undefined } });
    assert.equal(c.port, 6100);
    assert.equal(c.host, '127.0.0.1');
  });

  it('string numbers in the file are converted too', () => {
    const c = loadConfig({ file: writeJson('strings.json', { port: '6200', limits: { maxSessions: '5' } }), env: {} });
    assert.equal(c.port, 6200);
    assert.equal(c.limits.maxSessions, 5);
  });
});

describe('loadConfig: validation', () => {
  it('port 70000 is rejected, naming the field', () => {
    throwsConfigError(() => loadConfig({ env: { PARLANCE_PORT: '70000' } }), /\/port/);
    throwsConfigError(() => loadConfig({ env: {}, flags: { port: 70000 } }), /\/port/);
    throwsConfigError(() => loadConfig({ file: writeJson('port.json', { port: 70000 }), env: {} }), /\/port/);
  });

  it('negative values are rejected, naming the field', () => {
    throwsConfigError(() => loadConfig({ env: { PARLANCE_LIMITS__MAX_SESSIONS: '-1' } }), /\/limits\/maxSessions/);
    throwsConfigError(() => loadConfig({ env: { PARLANCE_ENGINES__POCKETSPHINX__WORKERS: '-2' } }), /\/engines\/pocketsphinx\/workers/);
    throwsConfigError(() => loadConfig({ env: {}, flags: { port: -1 } }), /\/port/);
  });

  it('non-numeric values are rejected', () => {
    throwsConfigError(() => loadConfig({ env: { PARLANCE_PORT: 'eighty' } }), /\/port/);
    throwsConfigError(() => loadConfig({ env: { PARLANCE_PORT: '8080abc' } }), /\/port/);
    throwsConfigError(() => loadConfig({ env: { PARLANCE_PORT: '' } }), /\/port/);
  });

  it(
    'numbers that are not plain integers are rejected rather than truncated',
    () => {
      for (const v of ['1e3', '80.5', '0x10', 'true']) {
        throwsConfigError(() => loadConfig({ env: { PARLANCE_LIMITS__MAX_SESSIONS: v } }), /\/limits\/maxSessions/);
      }
      throwsConfigError(() => buildConfig({ port: 80.5 }), /\/port/);
      throwsConfigError(() => buildConfig({ port: true }), /\/port/);
    },
  );

  it('an unknown logLevel is rejected, naming the field', () => {
    throwsConfigError(() => loadConfig({ env: { PARLANCE_LOG_LEVEL: 'verbose' } }), /\/logLevel/);
    throwsConfigError(() => loadConfig({ env: {}, flags: { logLevel: 'INFO' } }), /\/logLevel/);
  });

  it('other schema rules: region pattern, empty key, unknown engine, wrong section type', () => {
    throwsConfigError(() => loadConfig({ env: { PARLANCE_REGION: 'West US' } }), /\/region/);
    throwsConfigError(() => loadConfig({ env: { PARLANCE_KEY: '' } }), /\/key/);
    throwsConfigError(() => loadConfig({ env: { PARLANCE_ENGINES__STT: 'whisper' } }), /\/engines\/stt/);
    throwsConfigError(() => buildConfig({ limits: 'none' }), /\/limits/);
  });

  it('a missing or unreadable file is a ConfigError naming the file', () => {
    const missing = join(dir, 'does-not-exist.json');
    throwsConfigError(() => loadConfig({ file: missing, env: {} }), /does-not-exist\.json/);
    throwsConfigError(() => loadConfig({ file: dir, env: {} }), /cannot read config file/);
    if (process.getuid?.() !== 0) {
      const locked = writeJson('locked.json', { port: 1 });
      chmodSync(locked, 0o000);
      throwsConfigError(() => loadConfig({ file: locked, env: {} }), /locked\.json/);
    }
  });

  it('invalid JSON, or JSON that is not an object, is a ConfigError', () => {
    throwsConfigError(() => loadConfig({ file: writeJson('bad.json', '{ "port": 5000, }'), env: {} }), /bad\.json/);
    throwsConfigError(() => loadConfig({ file: writeJson('empty.json', ''), env: {} }), /empty\.json/);
    throwsConfigError(() => loadConfig({ file: writeJson('array.json', '[1,2]'), env: {} }), /JSON object/);
    throwsConfigError(() => loadConfig({ file: writeJson('null.json', 'null'), env: {} }), /JSON object/);
    throwsConfigError(() => loadConfig({ file: writeJson('number.json', '5000'), env: {} }), /JSON object/);
  });
});

describe('loadConfig: result', () => {
  it('is deeply frozen', () => {
    const c = loadConfig({ env: {} });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.limits));
    assert.ok(Object.isFrozen(c.engines));
    assert.ok(Object.isFrozen(c.engines.pocketsphinx));
    assert.ok(Object.isFrozen(c.recognition));
    assert.throws(() => {
      (c as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (c.limits as { maxSessions: number }).maxSessions = 1;
    }, TypeError);
  });

  it('buildConfig does not modify its input', () => {
    const partial = { port: '6500', limits: { maxSessions: '3' } };
    const snapshot = structuredClone(partial);
    const c = buildConfig(partial);
    assert.equal(c.port, 6500);
    assert.deepEqual(partial, snapshot);
    assert.ok(!Object.isFrozen(partial));
  });

  it('two loads are independent objects', () => {
    const a = loadConfig({ env: {} });
    const b = loadConfig({ env: { PARLANCE_PORT: '5001' } });
    assert.equal(a.port, 5000);
    assert.equal(b.port, 5001);
    assert.notEqual(a.limits, b.limits);
  });
});
