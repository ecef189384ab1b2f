/**
 * kube-proxy's choice of endpoint for one service port on one node: the configured
 * selection, then ClientIP session affinity on top. Kept across snapshot swaps while the
 * service port exists, so stickiness survives endpoint changes.
 */
import type { Clock } from '../clock.js';
import { ClientIPAffinity } from './client-ip-affinity.js';
import type { Selector } from './selector.js';

export interface Keyed {
  /** `ip:port`. */
  readonly key: string;
}

export class EndpointBalancer<T extends Keyed> {
  private affinity: ClientIPAffinity | undefined;

  constructor(
    private readonly clock: Clock,
    private selector: Selector<T>,
  ) {}

  /**
   * Apply a new snapshot: the selection to use, the affinity timeout (sessionAffinity
   * ClientIP; undefined for None) and the endpoint set, whose departed members lose
   * their sticky clients.
   */
  configure(selector: Selector<T>, affinityTimeoutMs: number | undefined, endpoints: ReadonlyMap<string, T>): void {
    this.selector = selector;
    if (affinityTimeoutMs === undefined) {
      this.affinity = undefined;
    } else if (this.affinity === undefined) {
      this.affinity = new ClientIPAffinity(affinityTimeoutMs, this.clock);
    } else {
      this.affinity.timeoutMs = affinityTimeoutMs;
      this.affinity.retain(endpoints);
    }
  }

  /**
   * The endpoint for a new connection from `clientIP` among `candidates` (`byKey` indexes
   * the same endpoints). `fresh` ignores stickiness, as after a failed dial.
   */
  pick(candidates: readonly T[], byKey: ReadonlyMap<string, T>, clientIP: string, fresh: boolean): T | undefined {
    const affinity = this.affinity;
    if (affinity === undefined) return this.selector.select(candidates);
    if (!fresh) {
      const sticky = affinity.lookup(clientIP);
      const endpoint = sticky === undefined ? undefined : byKey.get(sticky);
      if (endpoint !== undefined) return endpoint;
    }
    const endpoint = this.selector.select(candidates);
    if (endpoint !== undefined) affinity.record(clientIP, endpoint.key);
    return endpoint;
  }
}
