import { describe, expect, it } from 'vitest';
import { SyncRunner } from '../../src/runtime/sync-runner.js';

/** A sync that records when each call begins and ends, and lets the test finish it. */
function recorder() {
  const log: string[] = [];
  const pending: (() => void)[] = [];
  let calls = 0;
  const sync = (): Promise<void> => {
    const n = ++calls;
    log.push(`start ${n}`);
    return new Promise<void>((resolve) =>
      pending.push(() => {
        log.push(`end ${n}`);
        resolve();
      }),
    );
  };
  const finishNext = async (): Promise<void> => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!();
  };
  return { log, sync, finishNext };
}

describe('SyncRunner', () => {
  it('folds requests made during run() into one sync after it, never beside it', async () => {
    const r = recorder();
    const runner = new SyncRunner(r.sync, (err) => {
      throw err;
    });
    const first = runner.run();
    await new Promise((res) => setImmediate(res));
    // Pods started by the first sync report readiness while it still runs.
    const a = runner.request();
    const b = runner.request();
    await r.finishNext();
    await r.finishNext();
    await Promise.all([first, a, b]);
    expect(r.log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('run() waits for a sync in progress and rejects with its own sync error, leaving later ones to onError', async () => {
    const errors: unknown[] = [];
    let call = 0;
    const runner = new SyncRunner(
      async () => {
        call++;
        await new Promise((res) => setImmediate(res));
        if (call === 2) throw new Error('first of run');
        if (call === 3) throw new Error('a later one');
      },
      (err) => errors.push(err),
    );
    const earlier = runner.request();
    const run = runner.run();
    await earlier;
    const later = runner.request();
    await expect(run).rejects.toThrow('first of run');
    await later;
    await runner.idle();
    expect(call).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['a later one']);
  });
});
