import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterWorkerCrash } from '../../src/kernel/worker-threads.js';

describe('afterWorkerCrash', () => {
  it('respawns with doubling delays capped at 10 s once a worker has been ready', () => {
    const slot = { consecutiveCrashes: 0, everReady: true };
    const delays = Array.from({ length: 9 }, () => {
      const d = afterWorkerCrash(slot);
      assert.equal(d.action, 'respawn');
      return d.action === 'respawn' ? d.delayMs : -1;
    });
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    assert.equal(slot.consecutiveCrashes, 9);
  });

  it('gives up on the third crash in a row before the worker was ever ready', () => {
    const slot = { consecutiveCrashes: 0, everReady: false };
    assert.equal(afterWorkerCrash(slot).action, 'respawn');
    assert.equal(afterWorkerCrash(slot).action, 'respawn');
    assert.equal(afterWorkerCrash(slot).action, 'giveUp');
  });
});
