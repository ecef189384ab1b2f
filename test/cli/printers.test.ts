import { describe, expect, it } from 'vitest';
import { printPods } from '../../src/cli/printers.js';

const pod = (name: string, statuses: object[], kind = 'process') => ({
  metadata: { name, creationTimestamp: new Date().toISOString(), annotations: { 'aks-emu.io/pod-kind': kind } },
  spec: { nodeName: 'n' },
  status: { phase: 'Running', podIP: '127.244.0.2', containerStatuses: statuses },
});

const running = { running: { startedAt: new Date().toISOString() } };

describe('get pods', () => {
  it('derives STATUS and RESTARTS from container statuses as kubectl does, and names the pod kind', () => {
    const finishedAt = new Date(Date.now() - 5_000).toISOString();
    const out = printPods(
      {
        items: [
          pod('ok', [{ ready: true, restartCount: 0, state: running }]),
          pod('looping', [
            {
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt } },
            },
          ]),
          pod('done', [{ ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt } } }]),
          pod('creating', [{ ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }]),
          pod('killed', [{ ready: false, restartCount: 0, state: { terminated: { exitCode: 137, signal: 9, reason: '', finishedAt } } }]),
          pod('echo', [{ ready: true, restartCount: 0, state: running }], 'echo'),
        ],
      },
      false,
      false,
    );
    const rows = out.split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'KIND']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2], r[3], r.at(-1)])).toEqual([
      ['ok', '1/1', 'Running', '0', 'process'],
      ['looping', '0/1', 'CrashLoopBackOff', '3 (5s ago)', 'process'],
      ['done', '0/1', 'Completed', '0', 'process'],
      ['creating', '0/1', 'ContainerCreating', '0', 'process'],
      ['killed', '0/1', 'Signal:9', '0', 'process'],
      ['echo', '1/1', 'Running', '0', 'echo'],
    ]);
  });
});
