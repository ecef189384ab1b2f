/**
 * Traces of kernel-forwarded connections: a node or the lb in nftables mode follows its own
 * conntrack table (`conntrack -E`, conntrack-tools in the image) and turns each translated
 * flow into a trace record in the role's trace store, beside the user-space path's records:
 * the client, the address:port it dialled (ClusterIP, NodePort or LB frontend), what the
 * table decided (the Service port and endpoint on a node; the rule and node on the lb),
 * the source the next hop saw (the reply tuple's destination: masquerade or not), and how it
 * ended (FIN: conntrack's TIME_WAIT; RST: CLOSE; forgotten at its timeout while open:
 * idle_timeout; never answered: connect_failed).
 *
 * Three event streams, filtered by conntrack before they reach us: NEW and DESTROY, and the
 * UPDATEs into TIME_WAIT and CLOSE only (about three lines per connection). The same events
 * count each flow open, and its duration at its end, in the data plane's counters (the
 * user-space path's `_open_connections` and `_connection_duration_seconds`). What it cannot
 * show: bytes (conntrack accounting is off in the nodes' namespaces and counts IP packets,
 * not payload), and flows the table dropped or rejected (their SYN never gets a confirmed
 * conntrack entry; the counters count them, kernel-counters.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

import type { Snapshot } from '../../cluster/snapshot.js';
import type { TraceRecord, Traces, TraceView } from '../../dataplane/observe/traces.js';
import type { Counters, FlowTotals } from '../../dataplane/stats.js';

export interface Tuple {
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
}

export interface ConntrackEvent {
  readonly type: 'NEW' | 'UPDATE' | 'DESTROY';
  readonly id: string;
  /** TCP state (SYN_SENT, ESTABLISHED, TIME_WAIT, CLOSE, ...). */
  readonly state: string | undefined;
  readonly unreplied: boolean;
  readonly orig: Tuple;
  readonly reply: Tuple;
}

const EVENT = /^\s*\[(NEW|UPDATE|DESTROY)\]\s+tcp\s+6\s+(?:\d+\s+)?([A-Z_]+)?/;

/** One line of `conntrack -E -o id` (TCP); undefined for anything else. */
export function parseConntrackEvent(line: string): ConntrackEvent | undefined {
  const head = EVENT.exec(line);
  if (head === null) return undefined;
  const fields: [string, string][] = [...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]);
  const tuple = (from: number): Tuple | undefined => {
    const part = new Map(fields.slice(from, from + 4));
    const [src, dst, sport, dport] = [part.get('src'), part.get('dst'), Number(part.get('sport')), Number(part.get('dport'))];
    return src === undefined || dst === undefined || !(sport > 0) || !(dport > 0) ? undefined : { src, dst, sport, dport };
  };
  const orig = tuple(0);
  const reply = tuple(4);
  const id = fields.find(([k]) => k === 'id')?.[1];
  if (orig === undefined || reply === undefined || id === undefined) return undefined;
  return { type: head[1] as ConntrackEvent['type'], id, state: head[2], unreplied: line.includes('[UNREPLIED]'), orig, reply };
}

/**
 * What the role's table did with a new flow: the record's service and hops, and the
 * counters whose open connections and durations it counts in (the same objects the
 * user-space path settles into); undefined: not one of the table's.
 */
export type KernelFlowLookup = (event: ConntrackEvent) =>
  | {
      readonly service?: string;
      readonly hops: readonly Record<string, unknown>[];
      readonly totals: (counters: Counters) => readonly FlowTotals[];
    }
  | undefined;

type KernelFlowEnd = 'closed' | 'reset' | 'idle_timeout' | 'connect_failed';

class KernelFlow implements TraceRecord {
  readonly startedAt = Date.now();
  end: KernelFlowEnd | undefined;
  durationMs: number | undefined;

  constructor(
    readonly id: number,
    readonly client: Tuple,
    readonly service: string | undefined,
    readonly hops: readonly Record<string, unknown>[],
    /** Counted open in these until it ends. */
    readonly totals: readonly FlowTotals[],
  ) {
    for (const t of totals) t.active++;
  }

  get open(): boolean {
    return this.end === undefined;
  }

  services(): readonly string[] {
    return this.service === undefined ? [] : [this.service];
  }

  finish(end: KernelFlowEnd): void {
    this.end = end;
    this.durationMs = Date.now() - this.startedAt;
    for (const t of this.totals) {
      t.active--;
      t.duration.observe(this.durationMs / 1000);
    }
  }

  /** No longer followed (too many open): no longer counted open, and no duration. */
  forget(): void {
    for (const t of this.totals) t.active--;
  }

  toJSON(): TraceView {
    return {
      id: this.id,
      kind: 'tcp',
      path: 'kernel',
      start: new Date(this.startedAt).toISOString(),
      client: `${this.client.src}:${this.client.sport}`,
      ...(this.service === undefined ? {} : { service: this.service }),
      hops: this.hops,
      ...(this.end === undefined ? { open: true } : { end: this.end, durationMs: this.durationMs }),
    };
  }
}

/** Flows followed at once at most; past it the oldest is let go (its record stays open in the ring). */
const MAX_OPEN = 65_536;

const STREAMS: readonly (readonly string[])[] = [
  ['-E', '-e', 'NEW,DESTROY', '-p', 'tcp', '-o', 'id'],
  ['-E', '-e', 'UPDATE', '-p', 'tcp', '--state', 'TIME_WAIT', '-o', 'id'],
  ['-E', '-e', 'UPDATE', '-p', 'tcp', '--state', 'CLOSE', '-o', 'id'],
];

export class KernelTraces {
  readonly #traces: Traces;
  readonly #counters: () => Counters | undefined;
  #lookup: KernelFlowLookup | undefined;
  readonly #log: (line: string) => void;
  readonly #open = new Map<string, KernelFlow>();
  readonly #children: ChildProcess[] = [];
  #stopped = false;

  constructor(traces: Traces, counters: () => Counters | undefined, log: (line: string) => void) {
    this.#traces = traces;
    this.#counters = counters;
    this.#log = log;
  }

  /** The table's lookup for the snapshot now applied (nodeFlowLookup, lbFlowLookup). */
  use(lookup: KernelFlowLookup): void {
    this.#lookup = lookup;
  }

  /** Starts the event streams (a missing conntrack binary is logged once: traces of kernel flows are then absent). */
  start(): void {
    for (const args of STREAMS) {
      const child = spawn('conntrack', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.#children.push(child);
      child.on('error', (err) => this.#log(`kernel traces: conntrack ${args.slice(2, 4).join(' ')}: ${err.message}`));
      child.on('exit', (code, signal) => {
        if (!this.#stopped) this.#log(`kernel traces: conntrack ${args.slice(2).join(' ')} exited (${signal ?? code}); kernel flows are not traced`);
      });
      createInterface({ input: child.stdout! }).on('line', (line) => this.event(line));
      child.stderr!.resume();
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const child of this.#children) child.kill();
    this.#children.length = 0;
  }

  /** One line of a stream (public for tests). */
  event(line: string): void {
    const e = parseConntrackEvent(line);
    if (e === undefined) return;
    if (e.type === 'NEW') {
      // Only flows the table translated: the reply comes from somewhere other than where the client dialled.
      if (e.reply.src === e.orig.dst && e.reply.sport === e.orig.dport) return;
      const found = this.#lookup?.(e);
      if (found === undefined) return;
      const counters = this.#counters();
      const flow = new KernelFlow(this.#traces.nextId(), e.orig, found.service, found.hops, counters === undefined ? [] : found.totals(counters));
      if (this.#open.size >= MAX_OPEN) {
        const [oldest, dropped] = this.#open.entries().next().value!;
        this.#open.delete(oldest);
        dropped.forget();
      }
      this.#open.set(e.id, flow);
      this.#traces.add(flow);
      return;
    }
    const flow = this.#open.get(e.id);
    if (flow === undefined) return;
    this.#open.delete(e.id);
    flow.finish(e.state === 'TIME_WAIT' ? 'closed' : e.state === 'CLOSE' ? 'reset' : e.unreplied || e.state === 'SYN_SENT' ? 'connect_failed' : 'idle_timeout');
    this.#traces.ended(flow);
  }
}

const endpointHop = (snapshot: Snapshot) => {
  const pods = new Map(snapshot.pods.filter((p) => p.ip !== '').map((p) => [p.ip, p]));
  return (e: ConntrackEvent, node: string, service: string, port: string): Record<string, unknown>[] => {
    const pod = pods.get(e.reply.src);
    return [
      { hop: 'kube-proxy', node, service, port, path: 'kernel' },
      {
        hop: 'endpoint',
        endpoint: `${e.reply.src}:${e.reply.sport}`,
        ...(pod === undefined ? {} : { pod: `${pod.namespace}/${pod.name}`, node: pod.nodeName }),
        seenSource: e.reply.dst,
        delivery: 'kernel',
      },
    ];
  };
};

/** A node's table: ClusterIP:port and the node's address:NodePort, to the Service port and the endpoint the reply came from. */
export function nodeFlowLookup(snapshot: Snapshot, node: string): KernelFlowLookup {
  const address = snapshot.nodes.find((n) => n.name === node)?.address;
  const ports = new Map<string, { role: string; service: string; port: string }>();
  for (const s of snapshot.services) {
    const service = `${s.namespace}/${s.name}`;
    for (const p of s.ports) {
      if (p.protocol !== 'TCP') continue;
      if (s.clusterIP !== '' && s.clusterIP !== 'None') ports.set(`${s.clusterIP}:${p.port}`, { role: 'clusterip', service, port: p.name });
      if (address !== undefined && p.nodePort !== undefined && s.type !== 'ClusterIP')
        ports.set(`${address}:${p.nodePort}`, { role: 'nodeport', service, port: p.name });
    }
  }
  const endpoint = endpointHop(snapshot);
  const pods = new Map(snapshot.pods.filter((p) => p.ip !== '').map((p) => [p.ip, p]));
  return (e) => {
    const at = ports.get(`${e.orig.dst}:${e.orig.dport}`);
    if (at === undefined) return undefined;
    const pod = pods.get(e.reply.src);
    return {
      service: at.service,
      // As kernel-counters.ts keys them: the Service port on this node, and the endpoint (with its pod, as the EndpointSlice names it).
      totals: (counters) => [
        counters.servicePort(node, at.service, at.port),
        counters.endpoint(
          at.service,
          at.port,
          `${e.reply.src}:${e.reply.sport}`,
          pod === undefined ? undefined : `${pod.namespace}/${pod.name}`,
          pod?.nodeName,
        ),
      ],
      hops: [{ hop: 'listener', role: at.role, address: `${e.orig.dst}:${e.orig.dport}` }, { hop: 'node', node }, ...endpoint(e, node, at.service, at.port)],
    };
  };
}

/** The lb's table: frontend IP:port to the rule, and the node the reply came from. */
export function lbFlowLookup(snapshot: Snapshot): KernelFlowLookup {
  const nodes = new Map(snapshot.nodes.map((n) => [n.address, n.name]));
  const frontends = new Map<string, { loadBalancer: string; rule: string; servicePort: string }>();
  for (const lb of snapshot.loadBalancers)
    for (const r of lb.rules)
      frontends.set(`${r.frontendIP}:${r.frontendPort}`, { loadBalancer: lb.name, rule: r.name, servicePort: `${r.serviceKey}:${r.servicePortName}` });
  return (e) => {
    const at = frontends.get(`${e.orig.dst}:${e.orig.dport}`);
    if (at === undefined) return undefined;
    // As the user-space lb's records: the rule, not the Service (the node's record of the same flow names it).
    return {
      hops: [
        { hop: 'listener', role: 'lb', address: `${e.orig.dst}:${e.orig.dport}` },
        { hop: 'lb-rule', loadBalancer: at.loadBalancer, rule: at.rule, path: 'kernel' },
        { hop: 'node', node: nodes.get(e.reply.src) ?? e.reply.src, address: `${e.reply.src}:${e.reply.sport}`, seenSource: e.reply.dst },
      ],
      totals: (counters) => [counters.rule(at.loadBalancer, at.rule, at.servicePort)],
    };
  };
}
