/**
 * The Azure LB's idle timeout for one rule: a flow with no packet in either direction for
 * idleTimeoutMinutes is forgotten. With TCP reset (the AKS default) both ends get an RST;
 * without it the flow goes silent and each end finds out on its own
 * (load-balancer-tcp-reset). Flows only raise a flag per chunk; a sweep every quarter
 * timeout reads the flags, so expiry lands between one and 1.25 timeouts after the last
 * packet.
 */
import type { Socket } from 'node:net';

import type { Clock, TimerHandle } from '../clock.js';
import { flowVerdict } from '../observe/flow.js';
import type { RuleCounters } from '../stats.js';

/** A flow the LB forwards: two spliced sockets, or one handed to an in-process pod. */
export interface IdleFlow {
  /** The client's socket, which carries the flow's trace (observe/flow.ts). */
  readonly client: Socket;
  /** Traffic in either direction since the sweep last cleared it. */
  active: boolean;
  /** Clock time of the last sweep that saw traffic (or of the flow's start). */
  lastActive: number;
  /** The client side has closed: the flow is over. */
  readonly closed: boolean;
  /** RST to both ends. */
  reset(): void;
  /** Forward nothing more in either direction; each end finds out on its own. */
  silence(): void;
  /** Close both ends without a reset. */
  destroy(): void;
}

export interface IdleSettings {
  /** idleTimeoutMinutes × 60 s × timeScale. */
  readonly timeoutMs: number;
  readonly enableTcpReset: boolean;
  /**
   * How long a silently dropped flow is kept before both sockets are closed quietly:
   * roughly how long a Linux client keeps retransmitting unanswered data (tcp_retries2,
   * about 15 minutes), scaled.
   */
  readonly droppedLifetimeMs: number;
}

export class IdleTimeout {
  private readonly flows = new Set<IdleFlow>();
  private readonly dropped = new Set<IdleFlow>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** Where expiries are counted: the rule's counters, or a fault's (faults/toxic-flow.ts). */
    private readonly counters: Pick<RuleCounters, 'idleTimeouts'>,
    public settings: IdleSettings,
  ) {}

  watch(flow: IdleFlow): void {
    this.flows.add(flow);
    this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(this.sweep, Math.max(1, this.settings.timeoutMs / 4));
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = this.clock.now();
    const { timeoutMs, enableTcpReset, droppedLifetimeMs } = this.settings;
    for (const flow of this.flows) {
      if (flow.closed) {
        this.flows.delete(flow);
      } else if (flow.active) {
        flow.active = false;
        flow.lastActive = now;
      } else if (now - flow.lastActive >= timeoutMs) {
        this.flows.delete(flow);
        this.counters.idleTimeouts++;
        flowVerdict(flow.client, 'idle_timeout');
        if (enableTcpReset) {
          flow.reset();
        } else {
          flow.silence();
          flow.lastActive = now;
          this.dropped.add(flow);
        }
      }
    }
    for (const flow of this.dropped) {
      if (flow.closed) this.dropped.delete(flow);
      else if (now - flow.lastActive >= droppedLifetimeMs) {
        this.dropped.delete(flow);
        flow.destroy();
      }
    }
    // Sweeping stops when nothing is watched, so a monitor whose rule is gone ends by itself.
    if (this.flows.size > 0 || this.dropped.size > 0) this.arm();
  };
}
