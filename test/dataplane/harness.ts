/** One data plane per test, its pods and whatever else the test started, all released after it. */
import { afterEach } from 'vitest';

import type { Snapshot } from '../../src/cluster/snapshot.js';
import { DataPlane, type DataPlaneOptions } from '../../src/dataplane/index.js';
import { FakeClock } from './fake-clock.js';
import { PodServer } from './net-helpers.js';

export class Harness {
  private current: DataPlane | undefined;
  private cleanups: (() => Promise<void> | void)[] = [];

  get plane(): DataPlane {
    if (this.current === undefined) throw new Error('no data plane started');
    return this.current;
  }

  /** A data plane (on a fake clock unless one is given) with `snapshot` applied. */
  async start(snapshot: Snapshot, options: DataPlaneOptions = {}): Promise<DataPlane> {
    this.current = new DataPlane({ clock: new FakeClock(), ...options });
    await this.current.apply(snapshot);
    return this.current;
  }

  /** The data plane was stopped by the test itself. */
  forget(): void {
    this.current = undefined;
  }

  async pods(pods: readonly { name: string; ip: string; port: number }[], greet = true): Promise<PodServer[]> {
    const servers = await Promise.all(pods.map((p) => PodServer.start(p.name, p.ip, p.port, greet)));
    for (const server of servers) this.defer(() => server.close());
    return servers;
  }

  defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  async dispose(): Promise<void> {
    await this.current?.stop();
    this.current = undefined;
    for (const cleanup of this.cleanups.reverse()) await cleanup();
    this.cleanups = [];
  }
}

export function useHarness(): Harness {
  const harness = new Harness();
  afterEach(() => harness.dispose());
  return harness;
}
