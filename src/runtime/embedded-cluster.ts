/**
 * The embedded runtime: the whole cluster in one process, every address on loopback.
 *
 * It owns the runtime facts (stopped nodes, pod readiness), asks the pure control plane
 * for a new snapshot whenever a fact changes, and hands that snapshot to the data plane
 * and the pod runtimes. Nothing here decides traffic policy.
 */
import { EventEmitter } from 'node:events';
import { buildSnapshot, type Allocation, type RuntimeFacts } from '../cluster/index.js';
import type { PodInfo, Snapshot } from '../cluster/snapshot.js';
import type { ClusterConfig } from '../config/types.js';
import { DataPlane, type LocalEndpoint, type LocalEndpoints } from '../dataplane/index.js';
import { realClock, type Clock, type TimerHandle } from '../dataplane/clock.js';
import { AksEmuError, ManifestInvalidError } from '../errors/index.js';
import type { Manifests } from '../model/types.js';
import { buildRouter, type Router } from '../dataplane/ingress/index.js';
import { createEchoPod, ReadinessProber, type PodRuntime } from '../pods/index.js';
import { createIngressControllerPod } from '../pods/ingress-controller.js';
import { GatewayRouters, withGatewayConfig } from './gateway.js';
import { parseCIDR, formatIPv4 } from '../manifests/ip.js';
import { checkManifests } from './check.js';
import { withIngressConfig } from './ingress.js';
import { assertLoopbackRange } from './platform.js';
import { SyncRunner } from './sync-runner.js';
import { CreationClock } from './creation-clock.js';

export interface EmbeddedClusterOptions {
  readonly config: ClusterConfig;
  readonly manifests: Manifests;
  readonly clock?: Clock;
  /** Randomness for allocation and endpoint selection; seeded from config.seed when given. */
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}

export class EmbeddedCluster extends EventEmitter {
  readonly config: ClusterConfig;
  readonly created = new CreationClock();
  /** The user's manifests, and what the cluster runs: those plus built-in objects (ingress controller). */
  #manifests: Manifests;
  #effective!: Manifests;
  #allocation!: Allocation;
  #router: Router | undefined;
  readonly #gatewayRouters = new GatewayRouters();
  readonly #noticesSeen = new Set<string>();
  /** Things the cluster carries on with but a user should know (unimplemented annotations, ...). */
  readonly notices: string[] = [];
  #snapshot: Snapshot | undefined;
  #version = 0;
  readonly #random: () => number;
  readonly #log: (line: string) => void;
  readonly #clock: Clock;
  readonly #dataPlane: DataPlane;
  readonly #prober: ReadinessProber;
  readonly #pods = new Map<string, PodRuntime>();
  /** Running pod runtimes by pod IP: the data plane hands flows to them (DESIGN.md's hop collapse). */
  readonly #podsByIp = new Map<string, PodRuntime>();
  readonly #localEndpoints: LocalEndpoints = {
    lookup: (ip: string, port: number): LocalEndpoint | undefined => this.#podsByIp.get(ip)?.localEndpoint?.(port),
  };
  readonly #probeResults = new Map<string, boolean>();
  readonly #forcedReadiness = new Map<string, boolean>();
  readonly #stoppedNodes = new Set<string>();
  readonly #notReadyNodes = new Set<string>();
  readonly #graceTimers = new Map<string, TimerHandle>();
  readonly #sync: SyncRunner;
  #stopped = false;

  private constructor(options: EmbeddedClusterOptions) {
    super();
    this.config = options.config;
    this.#manifests = options.manifests;
    this.#random = options.random ?? seededRandom(options.config.seed);
    this.#log = options.log ?? (() => {});
    this.#clock = options.clock ?? realClock;
    this.#dataPlane = new DataPlane({ clock: options.clock, random: this.#random, log: this.#log, localEndpoints: this.#localEndpoints });
    this.#dataPlane.on('probe', (t) => this.emit('probe', t));
    this.#dataPlane.on('error', (err) => this.emit('error', err));
    this.#prober = new ReadinessProber({
      clock: options.clock,
      timeScale: options.config.timeScale,
      // kubelet probes from the node, so a pod sees its node's address as the probe's source.
      sourceAddress: (pod) => this.#snapshot?.nodes.find((n) => n.name === pod.nodeName)?.address,
    });
    this.#prober.on('readiness', (e: { podKey: string; ready: boolean; reason: string }) => {
      this.#probeResults.set(e.podKey, e.ready);
      this.emit('readiness', e);
      void this.#sync.request();
    });
    this.#prober.on('notice', (line: string) => this.#log(line));
    this.#sync = new SyncRunner(
      () => this.#resync(),
      (err) => this.emit('error', err),
    );
  }

  /** Allocates, binds every listener and starts every pod; on any failure releases all and throws. */
  static async start(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
    const cluster = new EmbeddedCluster(options);
    await assertLoopbackRange(firstAddress(options.config.addresses.nodeSubnet));
    const checked = cluster.#check(options.manifests);
    cluster.#effective = checked.effective;
    cluster.#allocation = checked.allocation;
    try {
      await cluster.#resync();
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

  /** What the cluster runs: the user's manifests plus built-in objects. */
  get manifests(): Manifests {
    return this.#effective;
  }

  probeStatus() {
    return this.#dataPlane.probeStatus();
  }

  stats() {
    return this.#dataPlane.stats();
  }

  /** Replaces the workload; allocations of objects that remain are kept. Invalid sets change nothing. */
  async apply(manifests: Manifests): Promise<void> {
    const { effective, allocation } = this.#check(manifests, this.#allocation);
    this.#allocation = allocation;
    this.#manifests = manifests;
    this.#effective = effective;
    await this.#sync.request();
  }

  /** Every error at once (allocation, the ingress controller's checks), or what to run. */
  #check(manifests: Manifests, previous?: Allocation): { effective: Manifests; allocation: Allocation } {
    const { effective, allocation, errors } = checkManifests(manifests, this.config, this.#random, previous);
    if (errors.length > 0) throw new ManifestInvalidError(errors);
    return { effective, allocation };
  }

  /** The router the ingress controller pods use for their next request. */
  get router(): Router | undefined {
    return this.#router;
  }

  /** Like a VM that dies: its listeners and pods go at once; Ready goes after the grace period. */
  async stopNode(name: string): Promise<void> {
    this.#requireNode(name);
    if (this.#stoppedNodes.has(name)) return;
    this.#stoppedNodes.add(name);
    const grace = this.config.nodeMonitorGracePeriodSeconds * 1000 * this.config.timeScale;
    const timer = this.#clock.setTimeout(() => {
      this.#graceTimers.delete(name);
      this.#notReadyNodes.add(name);
      void this.#sync.request();
    }, grace);
    this.#graceTimers.set(name, timer);
    await this.#sync.request();
  }

  async startNode(name: string): Promise<void> {
    this.#requireNode(name);
    const timer = this.#graceTimers.get(name);
    if (timer !== undefined) this.#clock.clearTimeout(timer);
    this.#graceTimers.delete(name);
    this.#stoppedNodes.delete(name);
    this.#notReadyNodes.delete(name);
    // Its containers start again, NotReady until their probes pass, as after a VM reboot.
    for (const pod of this.snapshot.pods) if (pod.nodeName === name) this.#probeResults.delete(`${pod.namespace}/${pod.name}`);
    await this.#sync.request();
  }

  /**
   * Forces a pod's readiness (true/false) or hands it back to its probes (null). A pod
   * forced unready also fails its health endpoints, so probes agree with the override.
   */
  async setPodReady(podKey: string, ready: boolean | null): Promise<void> {
    if (!this.snapshot.pods.some((p) => `${p.namespace}/${p.name}` === podKey)) {
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${podKey.split('/')[1]}" not found in namespace "${podKey.split('/')[0]}"`);
    }
    if (ready === null) this.#forcedReadiness.delete(podKey);
    else this.#forcedReadiness.set(podKey, ready);
    this.#pods.get(podKey)?.setHealthy(ready !== false);
    await this.#sync.request();
  }

  /**
   * True when every Running pod is Ready and every LB rule of a Service that has usable
   * endpoints has at least one backend its probe says is up: the first request a user
   * sends will be served. (A LB rule whose Service has no endpoints cannot serve.)
   */
  serving(): boolean {
    const snapshot = this.snapshot;
    if (!snapshot.pods.every((p) => p.phase !== 'Running' || p.ready)) return false;
    const withEndpoints = new Set(snapshot.endpoints.filter((e) => e.ports.some((p) => p.usable.length > 0)).map((e) => e.serviceKey));
    const up = new Set(this.probeStatus().filter((s) => s.state === 'up').map((s) => `${s.loadBalancer}/${s.probe}`));
    return snapshot.loadBalancers.every((lb) =>
      lb.rules.every((r) => !withEndpoints.has(r.serviceKey) || r.probeName === undefined || up.has(`${lb.name}/${r.probeName}`)),
    );
  }

  /** Resolves true once serving() holds, or false after timeoutMs. */
  waitUntilServing(timeoutMs: number): Promise<boolean> {
    if (this.serving()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const check = () => {
        if (this.serving()) done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('snapshot', check);
        this.off('probe', check);
        resolve(ok);
      };
      this.on('snapshot', check);
      this.on('probe', check);
    });
  }

  /** Waits until every queued change has reached the data plane and the pods. */
  settled(): Promise<void> {
    return this.#sync.idle();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#sync.idle();
    for (const timer of this.#graceTimers.values()) this.#clock.clearTimeout(timer);
    this.#graceTimers.clear();
    this.#prober.stop();
    await Promise.allSettled([this.#dataPlane.stop(), ...[...this.#pods.values()].map((p) => p.stop())]);
    this.#pods.clear();
    this.#podsByIp.clear();
    this.emit('stopped');
  }

  #requireNode(name: string): void {
    if (!this.config.nodes.includes(name)) throw new AksEmuError('AKS_EMU_NOT_FOUND', `nodes "${name}" not found`);
  }

  #facts(): RuntimeFacts {
    const podReadiness: Record<string, boolean> = {};
    for (const [key, ready] of this.#probeResults) podReadiness[key] = ready;
    for (const [key, ready] of this.#forcedReadiness) podReadiness[key] = ready;
    return { stoppedNodes: [...this.#stoppedNodes], notReadyNodes: [...this.#notReadyNodes], podReadiness };
  }

  async #resync(): Promise<void> {
    if (this.#stopped) return;
    const built = buildSnapshot({
      manifests: this.#effective,
      config: this.config,
      allocation: this.#allocation,
      facts: this.#facts(),
      version: ++this.#version,
      now: new Date(this.#clock.now()),
    });
    const snapshot = withGatewayConfig(withIngressConfig(built, this.#effective, this.config), this.#effective);
    this.created.observe(snapshot);
    if (snapshot.ingress) {
      this.#router = buildRouter(snapshot.ingress.config);
      this.#notice(snapshot.ingress.notices);
    }
    if (snapshot.gateway) {
      this.#gatewayRouters.update(snapshot.gateway);
      this.#notice(snapshot.gateway.notices);
    }
    // Pods first: a listener that opens for a new endpoint should find the pod answering.
    await this.#reconcilePods(snapshot);
    await this.#dataPlane.apply(snapshot);
    this.#snapshot = snapshot;
    this.emit('snapshot', snapshot);
  }

  #notice(lines: readonly string[]): void {
    for (const notice of lines) {
      if (this.#noticesSeen.has(notice)) continue;
      this.#noticesSeen.add(notice);
      this.notices.push(notice);
      this.emit('notice', notice);
    }
  }

  /** The router a Gateway's pod uses on a listener port: an empty one (404) until the port has a table. */
  gatewayRouter(gateway: string, port: number): Router {
    return this.#gatewayRouters.routerFor(gateway, port);
  }

  #podRuntime(pod: PodInfo): PodRuntime {
    if (pod.runtime === 'ingress-controller') return createIngressControllerPod(pod, { getRouter: () => this.#router!, nodeName: pod.nodeName });
    if (pod.runtime === 'gateway') return this.#gatewayRouters.createPod(pod);
    return createEchoPod(pod, { nodeName: pod.nodeName });
  }

  async #reconcilePods(snapshot: Snapshot): Promise<void> {
    const running = new Set(snapshot.nodes.filter((n) => n.running).map((n) => n.name));
    const wanted = new Map<string, PodInfo>();
    for (const pod of snapshot.pods) {
      if (pod.phase === 'Running' && running.has(pod.nodeName)) wanted.set(`${pod.namespace}/${pod.name}`, pod);
    }
    const stops: Promise<void>[] = [];
    for (const [key, runtime] of this.#pods) {
      if (wanted.has(key)) continue;
      this.#pods.delete(key);
      if (this.#podsByIp.get(runtime.pod.ip) === runtime) this.#podsByIp.delete(runtime.pod.ip);
      this.#prober.unwatch(key);
      // On a dead node the last probe result stands (no kubelet to change it); a pod that is gone forgets it.
      if (!snapshot.pods.some((p) => `${p.namespace}/${p.name}` === key)) this.#probeResults.delete(key);
      stops.push(runtime.stop());
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const [key, pod] of wanted) {
      const existing = this.#pods.get(key);
      if (existing) {
        existing.update(pod);
        continue;
      }
      const runtime = this.#podRuntime(pod);
      if (this.#forcedReadiness.get(key) === false) runtime.setHealthy(false);
      this.#pods.set(key, runtime);
      this.#podsByIp.set(pod.ip, runtime);
      starts.push(runtime.start().then(() => this.#prober.watch(pod)));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
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
