import type { Clock } from './clock.js';
import type { ConnectionTracker } from './l4/connection-tracker.js';
import type { HeldConnections } from './node/held-connections.js';
import type { NetpolGate } from './netpol-gate.js';
import type { GlobalCounters } from './stats.js';
import type { FaultHolder } from '../faults/compile.js';

/** What the forwarding code of one compiled snapshot shares. */
export interface ForwardingContext {
  readonly clock: Clock;
  readonly timeScale: number;
  readonly tracker: ConnectionTracker;
  readonly held: HeldConnections;
  readonly counters: GlobalCounters;
  /** The source address of the LB's health probes (Azure's 168.63.129.16), if they bind one. */
  readonly probeSource: string | undefined;
  /** Active faults; `faults.table` is undefined while there are none. */
  readonly faults: FaultHolder;
  /** [0, 1): which connections a fault with a fraction takes. */
  readonly random: () => number;
  /**
   * Whether this host can send from an address. Undefined: every address can be (the
   * embedded runtime, all on loopback). A node container cannot send from a client's
   * address that is not its own, so such a flow is masqueraded to the node instead.
   */
  readonly canSendFrom?: (address: string) => boolean;
  /** The snapshot's NetworkPolicies; undefined when it has none (nothing is isolated). */
  readonly netpol?: NetpolGate;
}
