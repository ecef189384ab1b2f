/**
 * sessionAffinity: ClientIP as the userspace proxier kept it: client IP → endpoint and
 * the time it was last used; a client sticks while lastUsed + timeout is in the future.
 */
import type { Clock } from '../clock.js';

interface AffinityEntry {
  endpoint: string;
  lastUsed: number;
}

/** Past this many clients, recording one also sweeps out the expired ones. */
const SWEEP_ABOVE = 4096;

export class ClientIPAffinity {
  private readonly entries = new Map<string, AffinityEntry>();

  constructor(
    public timeoutMs: number,
    private readonly clock: Clock,
  ) {}

  /** The endpoint key this client sticks to, if any; using it renews the stickiness. */
  lookup(clientIP: string): string | undefined {
    const entry = this.entries.get(clientIP);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    if (now - entry.lastUsed >= this.timeoutMs) {
      this.entries.delete(clientIP);
      return undefined;
    }
    entry.lastUsed = now;
    return entry.endpoint;
  }

  record(clientIP: string, endpoint: string): void {
    const now = this.clock.now();
    const entry = this.entries.get(clientIP);
    if (entry !== undefined) {
      entry.endpoint = endpoint;
      entry.lastUsed = now;
      return;
    }
    if (this.entries.size >= SWEEP_ABOVE) this.sweep(now);
    this.entries.set(clientIP, { endpoint, lastUsed: now });
  }

  /** On an endpoint-set change, drop stickiness to endpoints that are gone (userspace proxier). */
  retain(endpoints: ReadonlyMap<string, unknown>): void {
    for (const [clientIP, entry] of this.entries) {
      if (!endpoints.has(entry.endpoint)) this.entries.delete(clientIP);
    }
  }

  private sweep(now: number): void {
    for (const [clientIP, entry] of this.entries) {
      if (now - entry.lastUsed >= this.timeoutMs) this.entries.delete(clientIP);
    }
  }
}
