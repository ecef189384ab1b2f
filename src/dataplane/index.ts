/**
 * The L4 data plane: holds the current snapshot as compiled tables, swaps them in one
 * assignment, and reconciles listeners (keyed address:port:role) so that only what
 * changed is opened or closed. New connections see the new tables; running ones keep
 * flowing on what they were given.
 */
import { EventEmitter } from 'node:events';

import type { Snapshot } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';
import type { Distribution } from './balance/distribution.js';
import type { EndpointBalancer } from './balance/endpoint-balancer.js';
import type { Selector } from './balance/selector.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { ALL_ROLES, compile, type DataPlaneRoles, type RetainedState, type Tables } from './compile.js';
import { ConnectionTracker } from './l4/connection-tracker.js';
import type { LocalEndpoints } from './l4/local-endpoints.js';
import { Listener, type ListenerSpec } from './l4/listener.js';
import type { IdleTimeout } from './lb/idle-timeout.js';
import { DEFAULT_PROBE_SOURCE, Prober, type ProbeAnswerCounts, type ProbeAnswerer, type ProbeStatus, type ProbeTransition } from './lb/prober.js';
import { answerProbe } from './lb/probe-answer.js';
import { HeldConnections } from './node/held-connections.js';
import type { UpstreamEndpoint } from './node/service-port-route.js';
import { Retained } from './retained.js';
import { Counters, type DataPlaneStats } from './stats.js';
import type { FlowSource } from './observe/flow.js';
import { Traces } from './observe/traces.js';
import type { FaultHolder } from '../faults/compile.js';
import { deliveredVia, holdFlow, releaseFlow } from './faults/partition.js';

export type { Clock, TimerHandle } from './clock.js';
export type { ProbeAnswerCounts, ProbeState, ProbeStatus, ProbeTransition } from './lb/prober.js';
export type { NodeDelivery, NodeTrafficHandler } from './lb/node-delivery.js';
export type { DataPlaneRoles } from './compile.js';
export type { LocalEndpoint, LocalEndpoints, SeenAs } from './l4/local-endpoints.js';
export type { DataPlaneStats, EndpointStats, LoadBalancingRuleStats, ServicePortStats } from './stats.js';
export { Traces, type TraceQuery, type TraceView } from './observe/traces.js';

/** Connections held silent (Local policy, no local endpoint) beyond this close the oldest. */
const MAX_HELD_CONNECTIONS = 1024;

export interface DataPlaneOptions {
  /** Drives probes, idle timeouts, affinity and dial timeouts; real timers by default. */
  clock?: Clock;
  /** For 'random' endpoint selection; Math.random by default. */
  random?: () => number;
  log?: (line: string) => void;
  /**
   * The address LB health probes come from, standing for Azure's 168.63.129.16 (default
   * 127.63.129.16). Probe connections to a NodePort reach a pod like any flow but do not
   * move the round robin or the counters. null: probes use no fixed source (for hosts
   * without 127/8, where only 127.0.0.1 exists) and count like any client.
   */
  probeSource?: string | null;
  /** Which parts of each snapshot this process serves; all of them by default. */
  roles?: DataPlaneRoles;
  /**
   * Pods served in this process (the embedded runtime). A flow kube-proxy sends to one of
   * them is handed to the pod as it is, without a second loopback connection; the pod
   * sees the addresses a dialled connection would have had. Without it every flow is dialled.
   */
  localEndpoints?: LocalEndpoints;
  /** Where each connection's trace goes (shared with the L7 pods); a store of its own by default. */
  traces?: Traces;
  /**
   * false: listeners begin no flow record (observe/flow.ts), so connections are neither
   * traced nor counted per hop; the hops' flow calls then find no record and return. For
   * measuring what the records cost (AKS_EMU_PERF_HOOKS=off, perf/README.md); default true.
   */
  flows?: boolean;
  /** Active faults (src/faults); each hop reads the current table at accept. */
  faults?: FaultHolder;
  /**
   * false: every LB health probe opens a real connection. By default a probe whose outcome
   * this process decides in full (lb/probe-answer.ts) is answered without one.
   */
  probesInProcess?: boolean;
}

export interface StopOptions {
  /**
   * Let open connections finish for up to this long (clock time) after the listeners
   * stop accepting; what is still open then is reset. 0 (the default): close at once.
   */
  readonly graceMs?: number;
}

export interface DataPlaneEvents {
  probe: [ProbeTransition];
  /** A node settled up on a probe by its first successes (no transition). */
  'probe-settled': [];
  error: [Error];
}

export class DataPlane extends EventEmitter<DataPlaneEvents> {
  private readonly state: RetainedState;
  /** Every connection's hops (observe/flow.ts); `aks-emu trace` reads them. */
  readonly traces: Traces;
  private readonly flows: FlowSource | undefined;
  private readonly log: (line: string) => void;
  private readonly bound = new Map<string, Listener>();
  private tables: Tables | undefined;
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** Ends the grace period of a stop in progress early. */
  private cutShort: (() => void) | undefined;
  private cutRequested = false;
  /** Nodes a partition fault holds flows for. */
  private partitioned: ReadonlySet<string> = new Set();

  constructor(options: DataPlaneOptions = {}) {
    super();
    const clock = options.clock ?? realClock;
    const probeSource = options.probeSource === null ? undefined : (options.probeSource ?? DEFAULT_PROBE_SOURCE);
    const faults = options.faults ?? { table: undefined };
    this.log = options.log ?? (() => {});
    this.traces = options.traces ?? new Traces();
    this.flows = options.flows === false ? undefined : { traces: this.traces, probeSource };
    this.state = {
      clock,
      random: options.random ?? Math.random,
      startedAt: clock.now(),
      probeSource,
      tracker: new ConnectionTracker(),
      held: new HeldConnections(MAX_HELD_CONNECTIONS),
      counters: new Counters(),
      prober: new Prober(
        clock,
        probeSource,
        (transition) => {
          this.log(`probe ${transition.probe} of ${transition.loadBalancer}: node ${transition.node} is ${transition.state} (${transition.detail})`);
          this.emit('probe', transition);
        },
        faults,
        () => this.emit('probe-settled'),
        options.probesInProcess === false || probeSource === undefined ? undefined : this.answerProbe,
      ),
      faults,
      selectors: new Retained<Selector<UpstreamEndpoint>>(),
      balancers: new Retained<EndpointBalancer<UpstreamEndpoint>>(),
      distributions: new Retained<Distribution>(),
      idleTimeouts: new Retained<IdleTimeout>(),
      roles: options.roles ?? ALL_ROLES,
      localEndpoints: options.localEndpoints,
    };
  }

  /**
   * Compile, swap, reconcile listeners. Resolves when every listener of the snapshot is
   * bound; rejects with AKS_EMU_ADDRESS_IN_USE when one cannot be (the rest stay up).
   * Calls are applied one after another, in order.
   */
  apply(snapshot: Snapshot): Promise<void> {
    const next = this.applying.then(() => this.applyNow(snapshot));
    this.applying = next.catch(() => {});
    return next;
  }

  /**
   * Stop accepting at once, let open flows finish for options.graceMs, then close every
   * connection; resolves when all sockets are released. Called again while a grace period
   * runs, with graceMs 0 (a second SIGTERM), it resets what is left at once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const graceMs = options.graceMs ?? 0;
    if (this.stopping !== undefined) {
      if (graceMs === 0) {
        this.cutRequested = true;
        this.cutShort?.();
      }
      return this.stopping;
    }
    this.stopping = this.stopNow(graceMs);
    return this.stopping;
  }

  private async stopNow(graceMs: number): Promise<void> {
    this.stopped = true;
    await this.applying;
    this.state.prober.stop();
    const closing = [...this.bound.values()].map((listener) => listener.close());
    this.bound.clear();
    let drained = true;
    if (graceMs > 0) {
      // Held flows (Local policy, no local endpoint) would never be answered: no reason to wait for them.
      this.state.held.releaseAll();
      drained = await this.drain(graceMs);
    }
    for (const idle of this.state.idleTimeouts.values()) idle.stop();
    if (drained) await this.state.tracker.destroyAll();
    else await this.state.tracker.resetAll();
    await Promise.all(closing);
  }

  /** True when every client flow closed within the grace period, false when it ran out or was cut short. */
  private async drain(graceMs: number): Promise<boolean> {
    const { clock, tracker } = this.state;
    if (this.cutRequested) return false;
    let timer: TimerHandle | undefined;
    const outcome = await new Promise<boolean>((resolve) => {
      this.cutShort = () => resolve(false);
      timer = clock.setTimeout(() => resolve(false), graceMs);
      void tracker.drained().then(() => resolve(true));
    });
    if (timer !== undefined) clock.clearTimeout(timer);
    this.cutShort = undefined;
    return outcome;
  }

  /**
   * Nodes the LB is partitioned from: flows it had delivered to them stall until the node
   * is no longer listed, then carry on (src/dataplane/faults/partition.ts).
   */
  partition(nodes: ReadonlySet<string>): void {
    if (nodes.size === 0 && this.partitioned.size === 0) return;
    for (const socket of this.state.tracker.clientSockets()) {
      const via = deliveredVia(socket);
      if (via === undefined) continue;
      if (nodes.has(via)) holdFlow(socket);
      else if (this.partitioned.has(via)) releaseFlow(socket);
    }
    this.partitioned = new Set(nodes);
  }

  probeStatus(): ProbeStatus[] {
    return this.state.prober.status();
  }

  /** How many probe attempts were answered in process and how many opened a socket. */
  probeAnswers(): ProbeAnswerCounts {
    return this.state.prober.answers();
  }

  stats(): DataPlaneStats {
    return this.state.counters.toStats(this.state.tracker.activeClients);
  }

  /** The live counters behind /metrics (observe/metrics.ts). */
  counters(): Counters {
    return this.state.counters;
  }

  private async applyNow(snapshot: Snapshot): Promise<void> {
    if (this.stopped) throw new AksEmuError('AKS_EMU_STOPPED', 'the data plane has been stopped');
    if (this.state.roles.loadBalancer) this.state.prober.update(snapshot);
    const tables = compile(snapshot, this.state);
    this.tables = tables;
    await this.reconcile(tables.listeners);
    this.log(`data plane: snapshot ${tables.version} applied, ${this.bound.size} listeners`);
  }

  private async reconcile(specs: ReadonlyMap<string, ListenerSpec>): Promise<void> {
    for (const [key, listener] of this.bound) {
      if (specs.has(key)) continue;
      void listener.close();
      this.bound.delete(key);
    }
    const binding: Listener[] = [];
    for (const [key, spec] of specs) {
      if (this.bound.has(key)) continue;
      const listener = new Listener(spec, this.currentSpec, this.state.tracker, this.onListenerError, this.flows);
      this.bound.set(key, listener);
      binding.push(listener);
    }
    const results = await Promise.allSettled(binding.map((listener) => listener.listen()));
    let failure: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const listener = binding[i] as Listener;
      this.bound.delete(listener.spec.key);
      void listener.close();
      failure ??= result.reason;
    });
    if (failure !== undefined) throw failure;
  }

  private readonly currentSpec = (key: string): ListenerSpec | undefined => this.tables?.listeners.get(key);

  /** The spec a connection to this key would be accepted with now: its listener is bound and accepting. */
  private readonly boundSpec = (key: string): ListenerSpec | undefined => (this.bound.get(key)?.listening === true ? this.currentSpec(key) : undefined);

  private readonly answerProbe: ProbeAnswerer = (node, probe) => answerProbe(probe, node.address, this.boundSpec);

  private readonly onListenerError = (error: Error): void => {
    this.log(`data plane: listener error: ${error.message}`);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  };
}
