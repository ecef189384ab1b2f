/**
 * The kernel path's counts in the data plane's counters, so /metrics, `aks-emu stats` and
 * the dashboard show kernel-forwarded connections under the names and labels the
 * user-space path uses. One `nft -j list table` per read (when /metrics is read, and
 * before the table is replaced, since a new table's counters start from zero); each
 * counted rule's packets since the last read are added where the renderer says
 * (KernelCounterRef):
 *
 * - a DNAT rule sees a flow's first packet only, so its packets are connections:
 *   kube-proxy's connections and endpoint picks per Service port and node, the endpoint's
 *   connections, an LB rule's connections and backend picks;
 * - a reject (no endpoints) answers the SYN with a reset, so it is a connection refused;
 * - a drop (Local without a local endpoint, outside the LB's source ranges, no LB backend
 *   up) sees every SYN the client retries: counted as packets in families of their own
 *   (`aks_emu_kube_proxy_kernel_dropped_packets_total`, `aks_emu_lb_kernel_dropped_packets_total`),
 *   never as connections.
 *
 * Bytes are not filled for kernel flows: a rule counter sees packets with their IP
 * headers, not the payload the user-space series count. Open connections and durations
 * come from the conntrack events (kernel-traces.ts).
 */
import { counterKey, type KernelCounterRef } from '../../cluster/kube-proxy-nft.js';
import { countEndpointPick, type Counters } from '../../dataplane/stats.js';
import { Exposition } from '../../dataplane/observe/exposition.js';
import { AksEmuError } from '../../errors/index.js';
import { execNft } from './kernel-proxy.js';

/** What a table sync needs of a counter reader. */
export interface KernelCounterReader {
  /** Adds what the loaded table counted since the last read; `refs` is that table's counter map. */
  read(refs: ReadonlyMap<string, KernelCounterRef>): Promise<void>;
  /** The table was replaced or removed: its counters start from zero. */
  replaced(): void;
}

/** Packets per counted rule of a table, by `counterKey(chain, comment)`. */
export type NftCounterLister = (table: string) => Promise<Map<string, number>>;

export const listNftCounters: NftCounterLister = async (table) => {
  const json = await execNft(['-j', 'list', 'table', 'ip', table]);
  try {
    return parseNftCounters(json);
  } catch (err) {
    throw new AksEmuError('AKS_EMU_PLATFORM', `nft -j list table ip ${table}: ${(err as Error).message}`, { cause: err });
  }
};

interface NftRuleJson {
  readonly chain?: unknown;
  readonly comment?: unknown;
  readonly expr?: unknown;
}

/** `nft -j list table` output → packets per counted rule. Throws on text that is not nft's JSON. */
export function parseNftCounters(json: string): Map<string, number> {
  const parsed = JSON.parse(json) as { nftables?: unknown };
  if (!Array.isArray(parsed.nftables)) throw new Error('no "nftables" array in the output');
  const counters = new Map<string, number>();
  for (const item of parsed.nftables as unknown[]) {
    const rule = (item as { rule?: NftRuleJson } | null)?.rule;
    if (rule === undefined || typeof rule.chain !== 'string' || !Array.isArray(rule.expr)) continue;
    for (const expr of rule.expr as unknown[]) {
      const packets = (expr as { counter?: { packets?: unknown } } | null)?.counter?.packets;
      if (typeof packets !== 'number') continue;
      const key = counterKey(rule.chain, typeof rule.comment === 'string' ? rule.comment : undefined);
      counters.set(key, (counters.get(key) ?? 0) + packets);
    }
  }
  return counters;
}

type DropRef = Extract<KernelCounterRef, { kind: 'local-drop' } | { kind: 'lb-drop' }>;

export class KernelCounters implements KernelCounterReader {
  readonly #table: string;
  readonly #counters: () => Counters | undefined;
  readonly #list: NftCounterLister;
  /** Packets per rule at the last read of the table now loaded. */
  readonly #last = new Map<string, number>();
  /** Dropped SYNs, over every table loaded so far. */
  readonly #drops = new Map<string, { readonly ref: DropRef; packets: number }>();

  constructor(table: string, counters: () => Counters | undefined, list: NftCounterLister = listNftCounters) {
    this.#table = table;
    this.#counters = counters;
    this.#list = list;
  }

  async read(refs: ReadonlyMap<string, KernelCounterRef>): Promise<void> {
    const now = await this.#list(this.#table);
    const counters = this.#counters();
    for (const [key, packets] of now) {
      const ref = refs.get(key);
      if (ref === undefined || counters === undefined) continue;
      const delta = packets - (this.#last.get(key) ?? 0);
      this.#last.set(key, packets);
      if (delta > 0) this.#add(counters, ref, delta);
    }
  }

  replaced(): void {
    this.#last.clear();
  }

  #add(counters: Counters, ref: KernelCounterRef, n: number): void {
    switch (ref.kind) {
      case 'endpoint': {
        const port = counters.servicePort(ref.node, ref.service, ref.port);
        port.connections += n;
        countEndpointPick(port, ref.endpoint, n);
        counters.endpoint(ref.service, ref.port, ref.endpoint, ref.pod, ref.podNode).connections += n;
        return;
      }
      case 'no-endpoints': {
        const port = counters.servicePort(ref.node, ref.service, ref.port);
        port.connections += n;
        port.refused += n;
        return;
      }
      case 'lb-backend': {
        const rule = counters.rule(ref.loadBalancer, ref.rule, ref.servicePort);
        rule.connections += n;
        rule.nodePicks.set(ref.node, (rule.nodePicks.get(ref.node) ?? 0) + n);
        return;
      }
      case 'local-drop':
      case 'lb-drop': {
        const key = JSON.stringify(ref);
        const entry = this.#drops.get(key);
        if (entry === undefined) this.#drops.set(key, { ref, packets: n });
        else entry.packets += n;
        return;
      }
    }
  }

  /** The dropped-SYN families, in Prometheus' text format ('' before any drop). */
  metrics(): string {
    if (this.#drops.size === 0) return '';
    const out = new Exposition();
    for (const { ref, packets } of this.#drops.values()) {
      if (ref.kind === 'local-drop') {
        const slash = ref.service.indexOf('/');
        out
          .counter(
            'aks_emu_kube_proxy_kernel_dropped_packets_total',
            'SYNs kube-proxy in the kernel dropped (no_local_endpoint: Local traffic policy, no endpoint on the node); every retried SYN counts.',
          )
          .set(
            { node: ref.node, namespace: ref.service.slice(0, slash), service: ref.service.slice(slash + 1), port: ref.port, reason: 'no_local_endpoint' },
            packets,
          );
      } else {
        out
          .counter(
            'aks_emu_lb_kernel_dropped_packets_total',
            "SYNs an LB rule in the lb's kernel dropped, by reason (source_range, no_healthy_backend); every retried SYN counts.",
          )
          .set({ load_balancer: ref.loadBalancer, rule: ref.rule, service: ref.servicePort, reason: ref.reason }, packets);
      }
    }
    return out.text();
  }
}

/** What a role's RoleObserve reads of its kernel table on each /metrics. */
export function kernelObserver(sync: { readCounters(): Promise<void> }, counters: KernelCounters): { readCounters(): Promise<void>; metrics(): string } {
  return { readCounters: () => sync.readCounters(), metrics: () => counters.metrics() };
}
