/**
 * The Azure LB's idle timeout for one rule: a flow with no packet in either direction for
 * idleTimeoutMinutes is forgotten. With TCP reset (the AKS default) both ends get an RST;
 * without it the flow goes silent and each end finds out on its own
 * (load-balancer-tcp-reset). Flows only raise a flag per chunk; a sweep every quarter
 * timeout reads the flags, so expiry lands between one and 1.25 timeouts after the last
 * packet.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Splice } from '../l4/splice.js';
import type { RuleCounters } from '../stats.js';

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
  private readonly flows = new Set<Splice>();
  private readonly dropped = new Set<Splice>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly counters: RuleCounters,
    public settings: IdleSettings,
  ) {}

  watch(splice: Splice): void {
    this.flows.add(splice);
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
    for (const splice of this.flows) {
      if (splice.closed) {
        this.flows.delete(splice);
      } else if (splice.active) {
        splice.active = false;
        splice.lastActive = now;
      } else if (now - splice.lastActive >= timeoutMs) {
        this.flows.delete(splice);
        this.counters.idleTimeouts++;
        if (enableTcpReset) {
          splice.reset();
        } else {
          splice.silence();
          splice.lastActive = now;
          this.dropped.add(splice);
        }
      }
    }
    for (const splice of this.dropped) {
      if (splice.closed) this.dropped.delete(splice);
      else if (now - splice.lastActive >= droppedLifetimeMs) {
        this.dropped.delete(splice);
        splice.destroy();
      }
    }
    // Sweeping stops when nothing is watched, so a monitor whose rule is gone ends by itself.
    if (this.flows.size > 0 || this.dropped.size > 0) this.arm();
  };
}
