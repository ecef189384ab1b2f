import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'perf/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time: each integration file runs whole clusters (and child processes) whose
    // probes and timers are scaled down, and two of them competing for two cores made LB probes
    // miss and connections reset. Serial costs little: the container files dominate the run anyway.
    maxWorkers: 1,
    // `aks-emu up` merges a kubectl context into $KUBECONFIG: tests (and the `up` they spawn) never touch the user's own.
    env: { KUBECONFIG: join(tmpdir(), `aks-emu-test-kubeconfig-${process.pid}`) },
  },
});
