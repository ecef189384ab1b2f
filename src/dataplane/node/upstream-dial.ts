/**
 * Connecting an accepted client to an endpoint, then splicing the two. A failed dial
 * tries the next endpoint, as the userspace proxier did: four attempts with dial
 * timeouts of 250 ms, 500 ms, 1 s and 2 s (scaled), affinity ignored after a failure,
 * then the client is reset (pkg/proxy/userspace/proxysocket.go). An endpoint served in
 * this process gets the client socket itself, with the addresses a dial would have shown
 * (local-endpoints.ts): the pick, its counter and the source address are the same.
 */
import { connect, type Socket } from 'node:net';

import type { TimerHandle } from '../clock.js';
import type { ForwardingContext } from '../context.js';
import type { LocalEndpoint, LocalEndpoints } from '../l4/local-endpoints.js';
import { LocalFlow } from '../l4/local-flow.js';
import { resetSocket } from '../l4/reset.js';
import { flowDelivered, flowDialFailed, flowToEndpoint, flowVerdict } from '../observe/flow.js';
import { Splice, spliceOnRead } from '../l4/splice.js';
import type { IdleTimeout } from '../lb/idle-timeout.js';
import { countEndpointPick } from '../stats.js';
import { servicePortKey, type ServicePortRoute, type UpstreamEndpoint } from './service-port-route.js';
import { gateNode, gatePod, gatePort, toxicsOf, type StreamToxic } from '../faults/l4-faults.js';
import { faultIdleTimeout, ToxicFlow } from '../faults/toxic-flow.js';

const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
/** Scaled timeouts below this would fail healthy loopback dials on a busy event loop. */
const MIN_DIAL_TIMEOUT_MS = 100;

const DIAL = Symbol('aks-emu.dial');
type DialSocket = Socket & { [DIAL]: UpstreamDial };

export interface DialRequest {
  readonly route: ServicePortRoute;
  readonly candidates: readonly UpstreamEndpoint[];
  readonly byKey: ReadonlyMap<string, UpstreamEndpoint>;
  readonly clientIP: string;
  /** The source address the pod sees: the node under SNAT, otherwise the client. */
  readonly source: string;
  /** The node's address, used as source when a pod reaches itself (hairpin masquerade). */
  readonly nodeAddress: string;
  /** Present on flows through the Azure LB, which enforces its idle timeout. */
  readonly idle: IdleTimeout | undefined;
  /** In-process endpoints that may take this flow's socket; undefined: always dial. */
  readonly local: LocalEndpoints | undefined;
}

/**
 * Whether NetworkPolicy drops a flow at its endpoint. It judges the flow by the source the
 * pod sees on AKS (`wanted`, even where this host has to masquerade instead); LB health
 * probes are exempt. The probe answered without a socket asks the same (KubeProxy.probeHandOver).
 */
export function policyDrops(ctx: ForwardingContext, wanted: string, endpoint: UpstreamEndpoint, clientIP: string): boolean {
  const netpol = ctx.netpol;
  return netpol !== undefined && clientIP !== ctx.probeSource && netpol.drops(wanted, endpoint.ip, endpoint.port, clientIP);
}

export class UpstreamDial {
  private attempt = 0;
  private upstream: Socket | undefined;
  private timer: TimerHandle | undefined;
  /** The client's error and close are watched while a dial is under way. */
  private watching = false;
  /** Stream faults the hops attached to this flow (src/dataplane/faults); undefined: a plain splice. */
  private toxics: readonly StreamToxic[] | undefined;

  constructor(
    private readonly client: Socket,
    private readonly request: DialRequest,
    private readonly ctx: ForwardingContext,
  ) {}

  start(): void {
    const faults = this.ctx.faults.table;
    if (faults !== undefined) {
      const { counters } = this.request.route;
      if (gatePort(this.client, faults, 'service', servicePortKey(counters.service, counters.port), this.ctx)) return;
      gateNode(this.client, faults, counters.node, this.ctx);
    }
    this.dial(false);
  }

  connected(upstream: Socket): void {
    if (upstream !== this.upstream) return;
    this.clearTimer();
    upstream.off('connect', onUpstreamConnect);
    upstream.off('error', onUpstreamError);
    const client = this.client;
    this.unwatchClient();
    flowDelivered(client, 'dial');
    const toxics = this.toxics;
    const idle = toxics === undefined ? this.request.idle : (faultIdleTimeout(toxics, this.ctx.clock) ?? this.request.idle);
    // Only faults on the bytes need the toxic pipe; an idle-timeout override watches a plain splice.
    if (toxics !== undefined && toxics.some((t) => t.kind !== 'idle-timeout')) {
      const flow = new ToxicFlow(client, upstream, toxics, this.ctx.clock, this.ctx.random);
      idle?.watch(flow);
      return;
    }
    const splice = new Splice(client, upstream, this.ctx.counters, this.ctx.clock.now());
    idle?.watch(splice);
  }

  failed(upstream: Socket): void {
    if (upstream !== this.upstream) return;
    this.clearTimer();
    upstream.destroy();
    flowDialFailed(this.client);
    this.attempt++;
    const counters = this.request.route.counters;
    if (this.attempt < DIAL_TIMEOUTS_MS.length) {
      counters.retries++;
      this.dial(true);
      return;
    }
    counters.connectFailures++;
    this.upstream = undefined;
    flowVerdict(this.client, 'connect_failed');
    resetSocket(this.client);
  }

  clientGone(): void {
    this.clearTimer();
    this.upstream?.destroy();
    this.upstream = undefined;
  }

  private dial(fresh: boolean): void {
    const { route, candidates, byKey, clientIP, source, nodeAddress, local } = this.request;
    const endpoint = route.balancer.pick(candidates, byKey, clientIP, fresh);
    if (endpoint === undefined) {
      resetSocket(this.client);
      return;
    }
    countEndpointPick(route.counters, endpoint.key);
    const faults = this.ctx.faults.table;
    if (faults !== undefined) {
      if (gatePod(this.client, faults, endpoint.ip, this.ctx.clock.now(), this.ctx)) return;
      this.toxics = toxicsOf(this.client);
    }
    // A pod reaching itself through a Service is masqueraded to its node (hairpin).
    const wanted = endpoint.ip === clientIP ? nodeAddress : source;
    const canSendFrom = this.ctx.canSendFrom;
    const from = canSendFrom === undefined || canSendFrom(wanted) ? wanted : nodeAddress;
    flowToEndpoint(this.client, endpoint, from, candidates === route.local ? 'local' : 'all');
    if (policyDrops(this.ctx, wanted, endpoint, clientIP)) return this.dropped();
    // A flow with stream faults keeps two sockets, so the faults can sit between them.
    const inProcess = this.toxics !== undefined ? undefined : local?.lookup(endpoint.ip, endpoint.port);
    if (inProcess !== undefined) return this.handOver(inProcess, endpoint, from);
    this.watchClient();
    // A plain splice reads the pod into reused buffers; stream faults read 'data' events.
    const onread = this.toxics === undefined ? spliceOnRead : undefined;
    const upstream = connect({ host: endpoint.ip, port: endpoint.port, localAddress: from, allowHalfOpen: true, noDelay: true, onread }) as DialSocket;
    upstream[DIAL] = this;
    this.upstream = upstream;
    this.ctx.tracker.trackOther(upstream);
    upstream.on('connect', onUpstreamConnect);
    upstream.on('error', onUpstreamError);
    const timeout = Math.max(MIN_DIAL_TIMEOUT_MS, (DIAL_TIMEOUTS_MS[this.attempt] ?? 0) * this.ctx.timeScale);
    this.timer = this.ctx.clock.setTimeout(() => this.failed(upstream), timeout);
  }

  /** Dropped by NetworkPolicy: the SYN to the pod goes unanswered, so the client waits, as for kube-proxy's DROP. */
  private dropped(): void {
    this.unwatchClient();
    this.request.route.counters.dropped++;
    this.request.route.counters.policyDrops++;
    flowVerdict(this.client, 'network_policy');
    this.ctx.held.hold(this.client);
  }

  /**
   * The client socket becomes the pod's connection. Its source port is kept, as
   * kube-proxy's DNAT (and MASQUERADE, when the port is free) keeps it.
   */
  private handOver(endpoint: LocalEndpoint, picked: UpstreamEndpoint, from: string): void {
    this.unwatchClient();
    const client = this.client;
    if (client.destroyed) return;
    flowDelivered(client, 'hand-over');
    const idle = this.request.idle;
    if (idle !== undefined) idle.watch(new LocalFlow(client, this.ctx.clock.now()));
    endpoint.acceptForwarded(client, { remoteAddress: from, remotePort: client.remotePort ?? 0, localAddress: picked.ip, localPort: picked.port });
    // Accepted sockets arrive paused (pauseOnConnect): the pod's handlers are in place now.
    client.resume();
  }

  private watchClient(): void {
    if (this.watching) return;
    this.watching = true;
    const client = this.client as DialSocket;
    client[DIAL] = this;
    client.on('error', onClientGone);
    client.on('close', onClientGone);
  }

  private unwatchClient(): void {
    if (!this.watching) return;
    this.watching = false;
    this.client.off('error', onClientGone);
    this.client.off('close', onClientGone);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function onUpstreamConnect(this: DialSocket): void {
  this[DIAL].connected(this);
}

function onUpstreamError(this: DialSocket): void {
  this[DIAL].failed(this);
}

function onClientGone(this: DialSocket): void {
  this[DIAL].clientGone();
}
