import type { Clock } from './clock.js';
import type { ConnectionTracker } from './l4/connection-tracker.js';
import type { HeldConnections } from './node/held-connections.js';
import type { GlobalCounters } from './stats.js';

/** What the forwarding code of one compiled snapshot shares. */
export interface ForwardingContext {
  readonly clock: Clock;
  readonly timeScale: number;
  readonly tracker: ConnectionTracker;
  readonly held: HeldConnections;
  readonly counters: GlobalCounters;
  /** The source address of the LB's health probes (Azure's 168.63.129.16), if they bind one. */
  readonly probeSource: string | undefined;
}
