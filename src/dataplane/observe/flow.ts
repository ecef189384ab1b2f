/**
 * One L4 connection as it crosses the hops: the listener that accepted it (LB frontend,
 * NodePort or ClusterIP), the LB rule and the node it picked, kube-proxy's decision on that
 * node, the endpoint and the source address the pod saw. The record is taken at accept (a
 * new one, or one a closed connection left) and travels on the client socket (the one
 * object every hop receives); the hops fill in their fields, and the socket's close ends
 * it: bytes, duration and the reason reach every hop's counters at once, so the data path
 * itself counts nothing per chunk.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

import type { UpstreamEndpoint } from '../node/service-port-route.js';
import type { FlowTotals, ListenerCounters, RuleCounters, ServicePortCounters } from '../stats.js';
import type { TraceRecord, Traces, TraceView } from './traces.js';

/** Why a connection ended: a decision of a hop, or the ends closing it themselves. */
export type FlowEndReason =
  /** Either end closed it (FIN). */
  | 'closed'
  /** Either end reset it, or a hop did after the flow was established. */
  | 'reset'
  | 'rejected_source_range'
  | 'no_healthy_backend'
  /** The LB picked a node that was not running (before its probe noticed). */
  | 'backend_unreachable'
  /** kube-proxy on the node has no rule for the port. */
  | 'no_route'
  /** kube-proxy REJECT: the Service port has no usable endpoint. */
  | 'no_endpoints'
  /** kube-proxy DROP: Local traffic policy and no endpoint on the node. */
  | 'no_local_endpoint'
  /** A NetworkPolicy dropped it at the endpoint (held silent: it ends when the client gives up). */
  | 'network_policy'
  | 'connect_failed'
  /** A ClusterIP reached from outside the cluster. */
  | 'outside_cluster'
  | 'node_stopped'
  | 'idle_timeout';

export type FlowDelivery = 'hand-over' | 'dial';

const FLOW = Symbol('aks-emu.flow');
type FlowSocket = Socket & { [FLOW]?: Flow };

/**
 * A flow's record. Records are reused: each is held by its client socket until the socket
 * closes and by the trace ring until the ring drops it, and once both have let go the
 * trace store's spare list takes it back for a later connection. Nothing reads a record
 * after that: the socket forgets it at its close, and every reader of the ring (the trace
 * API, followers) copies what it reads at once (toJSON).
 */
export class Flow implements TraceRecord {
  id = 0;
  /** Epoch milliseconds of the accept. */
  startedAt = 0;
  #t0 = 0;
  #traces: Traces | undefined = undefined;
  #listener: ListenerCounters | undefined = undefined;
  client = '';
  clientPort = 0;
  rule: RuleCounters | undefined = undefined;
  /** The node whose kube-proxy took the flow (picked by the LB, or the node it arrived at). */
  node: string | undefined = undefined;
  route: ServicePortCounters | undefined = undefined;
  /** Which endpoints kube-proxy chose from: all of the Service's, or the node's own (Local policy). */
  candidates: 'all' | 'local' | undefined = undefined;
  endpoint: UpstreamEndpoint | undefined = undefined;
  /** The source address the pod saw: the node under SNAT, else the client. */
  seenSource: string | undefined = undefined;
  delivery: FlowDelivery | undefined = undefined;
  attempts = 0;
  connectMs: number | undefined = undefined;
  /** elapsedMs() when the current dial attempt began. */
  dialStartMs = 0;
  /** The endpoint took the flow (its counters count it as open). */
  delivered = false;
  /** Set by the hop that ended the flow on purpose. */
  verdict: FlowEndReason | undefined = undefined;
  end: FlowEndReason | undefined = undefined;
  durationMs: number | undefined = undefined;
  receivedBytes = 0;
  sentBytes = 0;
  /** Faults that took effect on this flow: `type fault-id`. */
  faults: string[] | undefined = undefined;
  /** The client socket and the trace ring: the record is reused when neither holds it. */
  #holds = 0;

  /** A connection starts (on a new record or one taken back): held by its socket and the trace ring. */
  start(id: number, traces: Traces, listener: ListenerCounters, client: string, clientPort: number): void {
    this.id = id;
    this.startedAt = Date.now();
    this.#t0 = performance.now();
    this.#traces = traces;
    this.#listener = listener;
    this.client = client;
    this.clientPort = clientPort;
    this.#holds = 2;
  }

  get traces(): Traces {
    return this.#traces!;
  }

  get listener(): ListenerCounters {
    return this.#listener!;
  }

  /** The trace ring dropped the record (TraceRecord). */
  evicted(): void {
    this.release();
  }

  /** The socket (at its close) or the trace ring let go of the record. */
  release(): void {
    if (--this.#holds !== 0) return;
    const spare = spareFlows.get(this.#traces!);
    this.#reset();
    if (spare !== undefined && spare.length < SPARE_FLOWS) spare.push(this);
  }

  /** Back to a new record's state, so a record waiting to be reused holds nothing. */
  #reset(): void {
    this.#traces = undefined;
    this.#listener = undefined;
    this.client = '';
    this.rule = undefined;
    this.node = undefined;
    this.route = undefined;
    this.candidates = undefined;
    this.endpoint = undefined;
    this.seenSource = undefined;
    this.delivery = undefined;
    this.attempts = 0;
    this.connectMs = undefined;
    this.dialStartMs = 0;
    this.delivered = false;
    this.verdict = undefined;
    this.end = undefined;
    this.durationMs = undefined;
    this.receivedBytes = 0;
    this.sentBytes = 0;
    this.faults = undefined;
  }

  get open(): boolean {
    return this.end === undefined;
  }

  /** Milliseconds since the accept. */
  elapsedMs(): number {
    return performance.now() - this.#t0;
  }

  services(): readonly string[] {
    return this.route === undefined ? [] : [this.route.service];
  }

  toJSON(): TraceView {
    const hops: Record<string, unknown>[] = [{ hop: 'listener', role: this.listener.role, address: `${this.listener.address}:${this.listener.port}` }];
    if (this.rule !== undefined) hops.push({ hop: 'lb-rule', loadBalancer: this.rule.loadBalancer, rule: this.rule.rule });
    if (this.node !== undefined) hops.push({ hop: 'node', node: this.node });
    if (this.route !== undefined) {
      hops.push({
        hop: 'kube-proxy',
        node: this.route.node,
        service: this.route.service,
        port: this.route.port,
        ...(this.candidates === undefined ? {} : { endpoints: this.candidates }),
      });
    }
    if (this.endpoint !== undefined) {
      hops.push({
        hop: 'endpoint',
        endpoint: this.endpoint.key,
        ...(this.endpoint.pod === undefined ? {} : { pod: this.endpoint.pod }),
        ...(this.endpoint.nodeName === undefined ? {} : { node: this.endpoint.nodeName }),
        seenSource: this.seenSource,
        delivery: this.delivery,
        attempts: this.attempts,
        ...(this.connectMs === undefined ? {} : { connectMs: round(this.connectMs) }),
      });
    }
    return {
      id: this.id,
      kind: 'tcp',
      start: new Date(this.startedAt).toISOString(),
      client: `${this.client}:${this.clientPort}`,
      ...(this.route === undefined ? {} : { service: this.route.service }),
      hops,
      ...(this.faults === undefined ? {} : { faults: this.faults }),
      ...(this.end === undefined
        ? { open: true }
        : { end: this.end, durationMs: round(this.durationMs ?? 0), bytes: { fromClient: this.receivedBytes, toClient: this.sentBytes } }),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** What starting a flow needs: the trace store, and the LB probes' source, whose connections are not traced. */
export interface FlowSource {
  readonly traces: Traces;
  readonly probeSource: string | undefined;
}

/** Records taken back and waiting for a connection: enough for a burst, bounded so a quiet cluster lets them go. */
const SPARE_FLOWS = 256;

/** Per trace store (a WeakMap: a stopped cluster's records go with it). */
const spareFlows = new WeakMap<Traces, Flow[]>();

/** How many records the flows of this trace store have made so far: the rest of its connections reused one. */
export function flowRecordsMade(traces: Traces): number {
  return made.get(traces) ?? 0;
}

const made = new WeakMap<Traces, number>();

/** A client connection a TCP listener accepted; its record rides on the socket. */
export function beginFlow(source: FlowSource, socket: Socket, listener: ListenerCounters): void {
  const client = socket.remoteAddress ?? '';
  // LB health probes would crowd every user's flow out of the ring (one per node and rule per interval).
  if (client === source.probeSource) return;
  listener.connections++;
  listener.active++;
  const traces = source.traces;
  let spare = spareFlows.get(traces);
  if (spare === undefined) spareFlows.set(traces, (spare = []));
  let flow = spare.pop();
  if (flow === undefined) {
    flow = new Flow();
    made.set(traces, (made.get(traces) ?? 0) + 1);
  }
  flow.start(traces.nextId(), traces, listener, lastingAddress(client), socket.remotePort ?? 0);
  (socket as FlowSocket)[FLOW] = flow;
  traces.add(flow);
}

/**
 * The same address as a string held for good (a bounded table of the clients seen), or the
 * string itself: a record keeps its client's address for as long as the ring keeps it, so the
 * socket's own copy would be promoted out of the young generation with every connection.
 */
function lastingAddress(address: string): string {
  const known = addresses.get(address);
  if (known !== undefined) return known;
  if (addresses.size >= KEEP_ADDRESSES) addresses.clear();
  addresses.set(address, address);
  return address;
}

const KEEP_ADDRESSES = 1024;
const addresses = new Map<string, string>();

export function flowOf(socket: Socket): Flow | undefined {
  return (socket as FlowSocket)[FLOW];
}

/** A hop ended the flow on purpose (a reject, a drop, an expiry): the trace says why. */
export function flowVerdict(socket: Socket, reason: FlowEndReason): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow !== undefined) flow.verdict ??= reason;
}

/** A fault took effect on the flow (src/dataplane/faults): the trace lists it. */
export function flowFault(socket: Socket, id: string, type: string): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow !== undefined) (flow.faults ??= []).push(`${type} ${id}`);
}

/** The LB rule whose frontend accepted the flow. */
export function flowAtRule(socket: Socket, rule: RuleCounters): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow === undefined) return;
  flow.rule = rule;
  rule.active++;
}

/** The node the LB handed the flow to. */
export function flowAtNode(socket: Socket, node: string): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow !== undefined) flow.node = node;
}

/** kube-proxy on a node took the flow for a Service port. */
export function flowAtRoute(socket: Socket, route: ServicePortCounters): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow === undefined || flow.route === route) return;
  if (flow.route !== undefined) flow.route.active--;
  flow.route = route;
  flow.node ??= route.node;
  route.active++;
}

/** kube-proxy picked an endpoint (each dial attempt, or the hand-over). */
export function flowToEndpoint(socket: Socket, endpoint: UpstreamEndpoint, seenSource: string, candidates: 'all' | 'local'): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow === undefined) return;
  flow.endpoint = endpoint;
  flow.seenSource = lastingAddress(seenSource);
  flow.candidates = candidates;
  flow.attempts++;
  flow.dialStartMs = flow.elapsedMs();
  if (endpoint.counters !== undefined) endpoint.counters.connections++;
}

/** A dial attempt to the flow's endpoint failed. */
export function flowDialFailed(socket: Socket): void {
  const counters = (socket as FlowSocket)[FLOW]?.endpoint?.counters;
  if (counters !== undefined) counters.connectFailures++;
}

/** The flow reached its endpoint: dialled and connected, or handed to an in-process pod. */
export function flowDelivered(socket: Socket, delivery: FlowDelivery): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow === undefined || flow.endpoint === undefined) return;
  flow.delivery = delivery;
  flow.connectMs = flow.elapsedMs() - flow.dialStartMs;
  flow.route?.connectDuration.observe(flow.connectMs / 1000);
  flow.delivered = true;
  if (flow.endpoint.counters !== undefined) flow.endpoint.counters.active++;
}

/** The client socket closed: every hop the flow crossed gets its bytes and duration. */
export function endFlow(socket: Socket, hadError: boolean): void {
  const flow = (socket as FlowSocket)[FLOW];
  if (flow === undefined || flow.end !== undefined) return;
  const ms = flow.elapsedMs();
  flow.durationMs = ms;
  flow.end = flow.verdict ?? (hadError ? 'reset' : 'closed');
  const received = socket.bytesRead;
  const sent = socket.bytesWritten;
  flow.receivedBytes = received;
  flow.sentBytes = sent;
  const seconds = ms / 1000;
  settle(flow.listener, received, sent, seconds);
  if (flow.rule !== undefined) settle(flow.rule, received, sent, seconds);
  if (flow.route !== undefined) settle(flow.route, received, sent, seconds);
  const endpoint = flow.endpoint?.counters;
  if (endpoint !== undefined && flow.delivered) settle(endpoint, received, sent, seconds);
  flow.traces.ended(flow);
  // The socket lets go of the record (a hop calling in after the close finds none), which may now be reused.
  (socket as FlowSocket)[FLOW] = undefined;
  flow.release();
}

function settle(totals: FlowTotals, received: number, sent: number, seconds: number): void {
  totals.active--;
  totals.receivedBytes += received;
  totals.sentBytes += sent;
  totals.duration.observe(seconds);
}
