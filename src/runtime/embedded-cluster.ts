/**
 * The embedded runtime: the whole cluster in one process, every address on loopback.
 *
 * It owns the runtime facts (stopped nodes, pod readiness), asks the pure control plane
 * for a new snapshot whenever a fact changes, and hands that snapshot to the data plane
 * and the pod runtimes. Nothing here decides traffic policy.
 */
import { EventEmitter } from 'node:events';
import type { Snapshot } from '../cluster/snapshot.js';
import type { NodeMeta } from '../cluster/nodes.js';
import type { ClusterConfig } from '../config/types.js';
import { DataPlane, type StopOptions } from '../dataplane/index.js';
import type { Clock } from '../dataplane/clock.js';
import { AksEmuError, type FieldError } from '../errors/index.js';
import type { Manifests } from '../model/types.js';
import type { Router } from '../dataplane/ingress/index.js';
import { PodSet } from '../pods/pod-set.js';
import type { PodRuntime } from '../pods/pod-runtime.js';
import { crashPodOf, followPodLogsOf, podLogsOf, type PodLogOptions } from '../pods/pod-logs.js';
import { parseCIDR, formatIPv4 } from '../manifests/ip.js';
import { ClusterState, podNotFound } from './cluster-state.js';
import { assertLoopbackRange } from './platform.js';
import { SyncRunner } from './sync-runner.js';
import { Observability } from './observability.js';
import { startOtlpExport, type OtlpExport, type OtlpExportOptions } from './otlp-export.js';
import type { TraceQuery, TraceView } from '../dataplane/observe/traces.js';
import { realClock } from '../dataplane/clock.js';
import { compileFaultTable, type FaultHolder } from '../faults/compile.js';
import { targetCatalog } from '../faults/catalog.js';
import { validateFault } from '../faults/validate.js';
import type { Fault } from '../faults/types.js';
import { FaultRegistry } from './fault-registry.js';
import { prefetchDefaultCertificate } from '../dataplane/ingress/self-signed-cert.js';
import type { FaultControl } from '../api/fault-routes.js';
import type { RouteRequests } from '../api/dashboard/model.js';
import { EmbeddedDns } from './embedded-dns.js';

/** What serving() asks of one snapshot: every Running pod Ready, and a node up for each of these probes. */
interface ServingNeeds {
  readonly snapshot: Snapshot;
  readonly podsReady: boolean;
  /** `loadBalancer/probe` of every LB rule whose Service has usable endpoints. */
  readonly probes: ReadonlySet<string>;
}

export interface EmbeddedClusterOptions {
  readonly config: ClusterConfig;
  readonly manifests: Manifests;
  readonly clock?: Clock;
  /** Randomness for allocation and endpoint selection; seeded from config.seed when given. */
  readonly random?: () => number;
  readonly log?: (line: string) => void;
  /** What pods say (a process pod's output, its restarts), prefixed with the pod's name; default: log. */
  readonly podLog?: (line: string) => void;
  /** Export every trace as an OpenTelemetry span over OTLP/HTTP (off by default). */
  readonly otlp?: OtlpExportOptions;
}

export class EmbeddedCluster extends EventEmitter {
  readonly config: ClusterConfig;
  readonly #state: ClusterState;
  readonly #noticesSeen = new Set<string>();
  /** Things the cluster carries on with but a user should know (unimplemented annotations, ...). */
  readonly notices: string[] = [];
  #snapshot: Snapshot | undefined;
  readonly #dataPlane: DataPlane;
  readonly #pods: PodSet;
  readonly #sync: SyncRunner;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #needs: ServingNeeds | undefined;
  readonly #log: (line: string) => void;
  /** Traces, L7 route counters and probe transitions: what /metrics and `aks-emu trace` read. */
  readonly observability = new Observability();
  #otlp: OtlpExport | undefined;
  /** The fault table every hop reads; replaced whole when a fault or the snapshot changes. */
  readonly #faultTable: FaultHolder = { table: undefined };
  readonly #faults: FaultRegistry;
  /** kube-dns at its ClusterIP, policed per query (embedded-dns.ts); bound on the first sync. */
  #dns: EmbeddedDns | undefined;

  /** Checks the manifests (throws ManifestInvalidError) and wires the parts; start() runs them. */
  private constructor(options: EmbeddedClusterOptions) {
    super();
    this.config = options.config;
    const random = options.random ?? seededRandom(options.config.seed);
    const log = options.log ?? (() => {});
    this.#log = log;
    if (!this.observability.hooks)
      this.notices.push(
        'AKS_EMU_PERF_HOOKS=off: connections and requests are not traced or counted per hop or route, and the ingress controller writes no access log (a perf-only switch)',
      );
    this.#sync = new SyncRunner(
      () => this.#resync(),
      (err) => this.emit('error', err),
    );
    this.#state = new ClusterState({
      config: options.config,
      manifests: options.manifests,
      random,
      ...(options.clock ? { clock: options.clock } : {}),
      nodesReportAtStart: true,
      onChange: () => void this.#sync.request(),
      log,
    });
    this.#pods = new PodSet({
      ...(options.clock ? { clock: options.clock } : {}),
      timeScale: options.config.timeScale,
      log: options.podLog ?? log,
      observe: this.observability.l7(),
      faults: this.#faultTable,
      clusterDns: () => this.#dns?.endpoint,
    });
    this.#pods.on('readiness', (e) => {
      this.#state.setProbeResult(e.podKey, e.ready);
      this.emit('readiness', e);
      void this.#sync.request();
    });
    // On a dead node the last probe result stands (no kubelet to change it); a pod that is gone forgets it.
    this.#pods.on('removed', (key) => {
      if (!this.#state.hasPod(key)) this.#state.forgetProbeResult(key);
      this.#state.setPodStatuses(key, undefined);
    });
    this.#pods.on('status', (key, statuses) => {
      this.#state.setPodStatuses(key, statuses);
      void this.#sync.request();
    });
    this.#pods.on('notice', (line) => log(line));
    this.#faults = new FaultRegistry(options.clock ?? realClock, {
      stopNode: (name) => this.stopNode(name),
      startNode: (name) => this.startNode(name),
      setPodReady: async (key, ready) => {
        // A pod that is gone has no readiness left to hand back.
        if (ready === null && !this.#state.hasPod(key)) return;
        await this.setPodReady(key, ready);
      },
      crashPod: async (key, restartAfterMs) => {
        if (this.#pods.supervised(key)) return this.#pods.crash(key, restartAfterMs, () => {});
        // Kubelet sees the container gone at once: the pod is NotReady until it runs again.
        await this.setPodReady(key, false);
        await this.#pods.crash(key, restartAfterMs, () => {
          this.setPodReady(key, null).catch((err: unknown) => log(`pod ${key}: readiness after restart: ${(err as Error).message}`));
        });
      },
      changed: () => this.#publishFaults(),
      log,
    });
    this.#faults.on('change', () => this.emit('fault'));
    this.observability.setFaultSource(() => this.#faults.list().map((f) => ({ id: f.id, type: f.type, target: f.target, fired: f.fired })));
    this.#dataPlane = new DataPlane({
      clock: options.clock,
      random,
      log,
      localEndpoints: this.#pods.localEndpoints,
      faults: this.#faultTable,
      traces: this.observability.traces,
      flows: this.observability.hooks,
    });
    this.#dataPlane.on('probe', (t) => {
      this.observability.probeTransitions.record(t);
      this.emit('probe', t);
    });
    this.#dataPlane.on('probe-settled', () => this.emit('probe-settled'));
    this.#dataPlane.on('error', (err) => this.emit('error', err));
  }

  /** Allocates, binds every listener and starts every pod; on any failure releases all and throws. */
  static async start(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
    if (options.config.ingress.enabled) prefetchDefaultCertificate();
    await assertLoopbackRange(firstAddress(options.config.addresses.nodeSubnet));
    const cluster = new EmbeddedCluster(options);
    try {
      if (options.otlp !== undefined) cluster.#otlp = await startOtlpExport(cluster.observability.traces, options.otlp);
      // Through the runner: the pods it starts report readiness at once, and the syncs those
      // ask for must come after this one, not beside it.
      await cluster.#sync.run();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get snapshot(): Snapshot {
    if (!this.#snapshot) throw new AksEmuError('AKS_EMU_STOPPED', 'the cluster has not started');
    return this.#snapshot;
  }

  get created() {
    return this.#state.created;
  }

  /** What the cluster runs: the user's manifests plus built-in objects. */
  get manifests(): Manifests {
    return this.#state.manifests;
  }

  probeStatus() {
    return this.#dataPlane.probeStatus();
  }

  stats() {
    return this.#dataPlane.stats();
  }

  /** Prometheus' text format (GET /metrics). */
  metrics(): string {
    return this.observability.metrics(this.#dataPlane, this.#snapshot);
  }

  /** The L7 route counters the dashboard's route edges show. */
  routeRequests(): RouteRequests[] {
    return this.observability.routeRequests();
  }

  traces(query: TraceQuery): TraceView[] {
    return this.observability.query(query);
  }

  followTraces(query: TraceQuery, onTrace: (view: TraceView) => void): () => void {
    return this.observability.follow(query, onTrace);
  }

  /** Validates a fault against the cluster's objects (a 422 Status naming the field) and adds it. */
  addFault(body: unknown): Promise<Fault> {
    return this.#faults.add(validateFault(body, targetCatalog(this.snapshot, this.manifests)));
  }

  faults(): Fault[] {
    return this.#faults.list();
  }

  fault(id: string): Fault {
    return this.#faults.get(id);
  }

  removeFault(id: string): Promise<Fault> {
    return this.#faults.remove(id);
  }

  clearFaults(): Promise<Fault[]> {
    return this.#faults.clear();
  }

  /** The admin API's fault routes use these methods. */
  get faultControl(): FaultControl {
    return this;
  }

  #publishFaults(): void {
    if (this.#snapshot === undefined) return;
    this.#faultTable.table = compileFaultTable(this.#faults.active(), this.#snapshot);
    const partitioned = new Set<string>();
    for (const [node, set] of this.#faultTable.table?.nodes ?? []) if (set.partition !== undefined) partitioned.add(node);
    this.#dataPlane.partition(partitioned);
  }

  /** Replaces the workload; allocations of objects that remain are kept. Invalid sets change nothing. */
  async apply(manifests: Manifests): Promise<void> {
    this.#state.apply(manifests);
    await this.#sync.request();
  }

  /** Every error `apply(manifests)` would refuse, changing nothing (the object store validates writes with it). */
  check(manifests: Manifests): readonly FieldError[] {
    return this.#state.check(manifests);
  }

  /** Each distinct notice once: kept for `notices` and emitted to listeners. */
  #notice(line: string): void {
    if (this.#noticesSeen.has(line)) return;
    this.#noticesSeen.add(line);
    this.notices.push(line);
    this.emit('notice', line);
  }

  /** The router the ingress controller pods use for their next request. */
  get router(): Router | undefined {
    return this.#pods.router;
  }

  /** Like a VM that dies: its listeners and pods go at once; Ready goes after the grace period. */
  async stopNode(name: string): Promise<void> {
    if (!this.#state.stopNode(name)) return;
    await this.#sync.request();
  }

  async startNode(name: string): Promise<void> {
    this.#state.startNode(name);
    await this.#sync.request();
  }

  /** A node's labels, annotations and spec.unschedulable as the API last wrote them. */
  nodeMeta(name: string): NodeMeta {
    return this.#state.nodeMeta(name);
  }

  /** `kubectl cordon` / `label node`: new pods avoid a cordoned node, the LB pools follow the labels. */
  async setNodeMeta(name: string, meta: NodeMeta): Promise<void> {
    this.#state.setNodeMeta(name, meta);
    await this.#sync.request();
  }

  /** The eviction API: the pod goes, its controller's replacement is placed afresh. */
  async evictPod(podKey: string): Promise<void> {
    this.#state.evictPod(podKey);
    await this.#sync.request();
  }

  /**
   * Forces a pod's readiness (true/false) or hands it back to its probes (null). A pod
   * forced unready also fails its health endpoints, so probes agree with the override.
   */
  async setPodReady(podKey: string, ready: boolean | null): Promise<void> {
    this.#state.setPodReady(podKey, ready);
    this.#pods.setHealthy(podKey, ready !== false);
    await this.#sync.request();
  }

  /** A container's output as `kubectl logs` shows it (PodLogs of the admin API). */
  podLogs(namespace: string, name: string, options: PodLogOptions = {}): string {
    return podLogsOf(this.#runtimeOf(namespace, name), namespace, name, options);
  }

  /** Every further line of a container's output (`logs -f`) until the returned function is called. */
  followPodLogs(namespace: string, name: string, container: string | undefined, onLine: (line: string) => void): () => void {
    return followPodLogsOf(this.#runtimeOf(namespace, name), namespace, name, container, onLine);
  }

  /** `aks-emu pod kill`: the pod's containers die at once and restart per restartPolicy (process pods). */
  crashPod(namespace: string, name: string): void {
    crashPodOf(this.#runtimeOf(namespace, name), namespace, name);
  }

  #runtimeOf(namespace: string, name: string): PodRuntime {
    const runtime = this.#pods.get(`${namespace}/${name}`);
    if (runtime === undefined) throw podNotFound(`${namespace}/${name}`);
    return runtime;
  }

  /**
   * True when every Running pod is Ready and every LB rule of a Service that has usable
   * endpoints has at least one backend its probe says is up: the first request a user
   * sends will be served. (A LB rule whose Service has no endpoints cannot serve.)
   */
  serving(): boolean {
    const needs = this.#servingNeeds();
    if (!needs.podsReady) return false;
    if (needs.probes.size === 0) return true;
    // A node counts for a probe when it is up and either settled or unknown with nothing
    // against it yet: no failed answer and no attempt out. An attempt made before the node's
    // NodePort listener was bound (the pods were not Ready then) comes back ECONNREFUSED and
    // takes the node out, so a caller told "serving" while it is out would meet an empty pool.
    const up = new Set<string>();
    for (const s of this.probeStatus()) {
      if (s.state === 'up' && (s.settled || (s.lastResult !== 'failure' && !s.attempting))) up.add(`${s.loadBalancer}/${s.probe}`);
    }
    for (const probe of needs.probes) if (!up.has(probe)) return false;
    return true;
  }

  /** What serving() needs of the current snapshot, computed once per snapshot. */
  #servingNeeds(): ServingNeeds {
    const snapshot = this.snapshot;
    if (this.#needs?.snapshot === snapshot) return this.#needs;
    const withEndpoints = new Set(snapshot.endpoints.filter((e) => e.ports.some((p) => p.usable.length > 0)).map((e) => e.serviceKey));
    const probes = new Set<string>();
    for (const lb of snapshot.loadBalancers) {
      for (const r of lb.rules) if (withEndpoints.has(r.serviceKey) && r.probeName !== undefined) probes.add(`${lb.name}/${r.probeName}`);
    }
    this.#needs = { snapshot, podsReady: snapshot.pods.every((p) => p.phase !== 'Running' || p.ready), probes };
    return this.#needs;
  }

  /**
   * Resolves true once serving() holds, or false after timeoutMs. serving() reads every
   * probe target (6,500 at 1,000 Services on 13 nodes), and start-up settles them one by
   * one: a check per event made start-up quadratic (blocks of seconds, which then timed
   * out the probes in flight). So one check is pending at a time, run no sooner than ten
   * times the last check's duration after it: the checks take at most a tenth of the time.
   */
  waitUntilServing(timeoutMs: number): Promise<boolean> {
    if (this.serving()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      let pending: ReturnType<typeof setTimeout> | undefined;
      let lastCostMs = 0;
      const check = () => {
        pending = undefined;
        const started = performance.now();
        const serving = this.serving();
        lastCostMs = performance.now() - started;
        if (serving) done(true);
      };
      const schedule = () => {
        pending ??= setTimeout(check, lastCostMs * 10);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        clearTimeout(pending);
        this.off('snapshot', schedule);
        this.off('probe', schedule);
        this.off('probe-settled', schedule);
        resolve(ok);
      };
      this.on('snapshot', schedule);
      this.on('probe', schedule);
      this.on('probe-settled', schedule);
    });
  }

  /** Waits until every queued change has reached the data plane and the pods. */
  settled(): Promise<void> {
    return this.#sync.idle();
  }

  /**
   * Stop accepting, let open flows finish for options.graceMs (0 by default: at once),
   * then stop every pod. A second call with graceMs 0 cuts a grace period short.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping !== undefined) {
      if ((options.graceMs ?? 0) === 0) void this.#dataPlane.stop({ graceMs: 0 });
      return this.#stopping;
    }
    this.#stopping = this.#stopNow(options.graceMs ?? 0);
    return this.#stopping;
  }

  async #stopNow(graceMs: number): Promise<void> {
    this.#stopped = true;
    // Faults end with the cluster: nothing they set is undone, everything goes.
    this.#faults.stop();
    this.#faultTable.table = undefined;
    await this.#sync.idle();
    this.#state.stop();
    // The data plane drains first: the pods behind in-flight flows keep serving until it is done.
    const [dataPlane] = await Promise.allSettled([this.#dataPlane.stop({ graceMs })]);
    if (dataPlane.status === 'rejected') this.#log(`stop: data plane: ${(dataPlane.reason as Error).message}`);
    await this.#pods.stop();
    await this.#dns?.stop();
    // After the flows have closed, so their traces are among the last spans sent.
    await this.#otlp?.stop();
    this.emit('stopped');
  }

  async #resync(): Promise<void> {
    if (this.#stopped) return;
    const snapshot = this.#state.build();
    for (const warning of this.#state.warnings) this.#notice(`warning: ${warning}`);
    for (const notice of [...(snapshot.ingress?.notices ?? []), ...(snapshot.gateway?.notices ?? [])]) this.#notice(notice);
    this.#dns ??= await EmbeddedDns.start(this.config.addresses.serviceCIDR, (line) => this.#notice(line));
    this.#dns.update(snapshot);
    // Pods first: a listener that opens for a new endpoint should find the pod answering.
    await this.#pods.reconcile(
      snapshot,
      () => true,
      (key) => this.#state.forcedReadiness(key),
    );
    // Pod faults are keyed by IP: a new snapshot may have moved them.
    if (this.#faultTable.table !== undefined) this.#faultTable.table = compileFaultTable(this.#faults.active(), snapshot);
    await this.#dataPlane.apply(snapshot);
    this.#snapshot = snapshot;
    this.emit('snapshot', snapshot);
  }
}

/** The first usable address of a range, to check the platform can bind inside it. */
function firstAddress(cidr: string): string {
  const range = parseCIDR(cidr);
  if (!range) throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `addresses: "${cidr}" is not an IPv4 CIDR`);
  return formatIPv4(range.base + 1);
}

/** mulberry32: small, fast and good enough for allocation order; deterministic with a seed. */
export function seededRandom(seed: number | undefined): () => number {
  if (seed === undefined) return Math.random;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
