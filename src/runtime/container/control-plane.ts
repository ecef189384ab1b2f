/**
 * The `control` container's state: the one control plane of the container runtime. It
 * owns the allocation and the runtime facts, rebuilds the snapshot when a fact changes,
 * and learns those facts from the other containers instead of from its own sockets:
 * nodes heartbeat and report their pods' readiness (kubelet's node status), the lb
 * reports its probe states. A node whose heartbeats stop has its listeners counted down
 * at once and turns NotReady after node-monitor-grace-period, as the node lifecycle
 * controller does; the LB learns about it only through its own probes.
 */
import { EventEmitter } from 'node:events';

import type { AdminBackend } from '../../api/server.js';
import { buildSnapshot, type Allocation, type RuntimeFacts } from '../../cluster/index.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import type { ClusterConfig } from '../../config/types.js';
import { realClock, type Clock } from '../../dataplane/clock.js';
import { buildRouter, type Router } from '../../dataplane/ingress/index.js';
import type { DataPlaneStats, ProbeStatus, TimerHandle } from '../../dataplane/index.js';
import { AksEmuError, ManifestInvalidError } from '../../errors/index.js';
import type { Manifests } from '../../model/types.js';
import { CreationClock } from '../creation-clock.js';
import { seededRandom } from '../embedded-cluster.js';
import { checkManifests } from '../check.js';
import { withIngressConfig } from '../ingress.js';
import { withGatewayConfig } from '../gateway.js';
import { SyncRunner } from '../sync-runner.js';
import { heartbeatIntervalMs, MISSED_HEARTBEATS, type LoadBalancerStatusReport, type NodeStatusReply, type NodeStatusReport } from './protocol.js';

export interface ControlPlaneOptions {
  readonly config: ClusterConfig;
  readonly manifests: Manifests;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: (line: string) => void;
}

interface NodeState {
  bootId: string | undefined;
  /** Heartbeats arrive (false until the first one). */
  alive: boolean;
  /** Stopped through the admin API (`aks-emu node stop`). */
  stoppedByUser: boolean;
  notReady: boolean;
  heartbeatTimer: TimerHandle | undefined;
  graceTimer: TimerHandle | undefined;
  stats: DataPlaneStats | undefined;
}

export interface ControlPlaneEvents {
  snapshot: [Snapshot];
  error: [unknown];
}

export class ContainerControlPlane extends EventEmitter<ControlPlaneEvents> implements AdminBackend {
  readonly config: ClusterConfig;
  readonly created = new CreationClock();
  /** The user's manifests plus the built-in ingress controller's objects. */
  readonly #manifests: Manifests;
  readonly #allocation: Allocation;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #nodes = new Map<string, NodeState>();
  readonly #probeResults = new Map<string, boolean>();
  readonly #forcedReadiness = new Map<string, boolean>();
  readonly #sync: SyncRunner;
  #loadBalancer: LoadBalancerStatusReport | undefined;
  #router: { readonly config: unknown; readonly router: Router } | undefined;
  #snapshot: Snapshot;
  #factsKey = '';
  #version = 0;
  #stopped = false;

  /** Allocates (throws ManifestInvalidError on bad manifests) and builds the first snapshot. */
  constructor(options: ControlPlaneOptions) {
    super();
    this.config = options.config;
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? (() => {});
    const { effective, allocation, errors } = checkManifests(options.manifests, options.config, options.random ?? seededRandom(options.config.seed));
    if (errors.length > 0) throw new ManifestInvalidError(errors);
    this.#manifests = effective;
    this.#allocation = allocation;
    for (const name of options.config.nodes) {
      // NotReady until its first heartbeat: a node has not joined before its kubelet reports.
      this.#nodes.set(name, {
        bootId: undefined,
        alive: false,
        stoppedByUser: false,
        notReady: true,
        heartbeatTimer: undefined,
        graceTimer: undefined,
        stats: undefined,
      });
    }
    this.#snapshot = this.#build();
    this.#sync = new SyncRunner(
      async () => this.#rebuild(),
      (err) => this.emit('error', err),
    );
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  get manifests(): Manifests {
    return this.#manifests;
  }

  /** The router the ingress controller pods in the node containers build from the same snapshot (for explain). */
  get router(): Router | undefined {
    const config = this.#snapshot.ingress?.config;
    if (config === undefined) return undefined;
    if (this.#router?.config !== config) this.#router = { config, router: buildRouter(config) };
    return this.#router.router;
  }

  get heartbeatIntervalMs(): number {
    return heartbeatIntervalMs(this.config.timeScale);
  }

  probeStatus(): readonly ProbeStatus[] {
    return this.#loadBalancer?.probes ?? [];
  }

  stats(): unknown {
    const nodes: Record<string, DataPlaneStats | undefined> = {};
    for (const [name, state] of this.#nodes) nodes[name] = state.stats;
    return { loadBalancer: this.#loadBalancer?.stats, nodes };
  }

  /** A node container's heartbeat; the reply carries what it must enforce locally. */
  nodeStatus(name: string, report: NodeStatusReport): NodeStatusReply {
    const state = this.#requireNode(name);
    if (state.bootId !== report.bootId) {
      if (state.bootId !== undefined) this.#log(`node ${name} restarted: its pods start NotReady until their probes pass`);
      state.bootId = report.bootId;
      for (const pod of this.#snapshot.pods) if (pod.nodeName === name) this.#probeResults.delete(`${pod.namespace}/${pod.name}`);
    }
    for (const [key, ready] of Object.entries(report.podReadiness)) this.#probeResults.set(key, ready);
    state.stats = report.stats;
    if (!state.alive) this.#log(`node ${name} is reporting`);
    state.alive = true;
    if (!state.stoppedByUser) {
      state.notReady = false;
      this.#clearGrace(state);
    }
    if (state.heartbeatTimer !== undefined) this.#clock.clearTimeout(state.heartbeatTimer);
    state.heartbeatTimer = this.#clock.setTimeout(() => this.#heartbeatsLost(name, state), this.heartbeatIntervalMs * MISSED_HEARTBEATS);
    this.#changed();
    const forcedReadiness: Record<string, boolean> = {};
    for (const pod of this.#snapshot.pods) {
      const key = `${pod.namespace}/${pod.name}`;
      const forced = this.#forcedReadiness.get(key);
      if (pod.nodeName === name && forced !== undefined) forcedReadiness[key] = forced;
    }
    return { forcedReadiness, heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  loadBalancerStatus(report: LoadBalancerStatusReport): void {
    this.#loadBalancer = report;
  }

  /** `aks-emu node stop`: the node container closes its listeners and pods, as a VM that dies. */
  async stopNode(name: string): Promise<void> {
    const state = this.#requireNode(name);
    if (state.stoppedByUser) return;
    state.stoppedByUser = true;
    this.#startGrace(name, state);
    await this.#changed();
  }

  async startNode(name: string): Promise<void> {
    const state = this.#requireNode(name);
    state.stoppedByUser = false;
    if (state.alive) {
      state.notReady = false;
      this.#clearGrace(state);
    }
    for (const pod of this.#snapshot.pods) if (pod.nodeName === name) this.#probeResults.delete(`${pod.namespace}/${pod.name}`);
    await this.#changed();
  }

  async setPodReady(podKey: string, ready: boolean | null): Promise<void> {
    if (!this.#snapshot.pods.some((p) => `${p.namespace}/${p.name}` === podKey)) {
      const [ns, name] = podKey.split('/');
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${name}" not found in namespace "${ns}"`);
    }
    if (ready === null) this.#forcedReadiness.delete(podKey);
    else this.#forcedReadiness.set(podKey, ready);
    await this.#changed();
  }

  /** Waits until every queued change is in the snapshot. */
  settled(): Promise<void> {
    return this.#sync.idle();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#sync.idle();
    for (const state of this.#nodes.values()) {
      if (state.heartbeatTimer !== undefined) this.#clock.clearTimeout(state.heartbeatTimer);
      this.#clearGrace(state);
    }
  }

  #heartbeatsLost(name: string, state: NodeState): void {
    state.heartbeatTimer = undefined;
    state.alive = false;
    this.#log(`node ${name}: no heartbeat for ${MISSED_HEARTBEATS} intervals; NotReady after the grace period`);
    this.#startGrace(name, state);
    void this.#changed();
  }

  #startGrace(name: string, state: NodeState): void {
    if (state.graceTimer !== undefined) return;
    const graceMs = this.config.nodeMonitorGracePeriodSeconds * 1000 * this.config.timeScale;
    state.graceTimer = this.#clock.setTimeout(() => {
      state.graceTimer = undefined;
      state.notReady = true;
      this.#log(`node ${name} is NotReady (node-monitor-grace-period passed)`);
      void this.#changed();
    }, graceMs);
  }

  #clearGrace(state: NodeState): void {
    if (state.graceTimer !== undefined) this.#clock.clearTimeout(state.graceTimer);
    state.graceTimer = undefined;
  }

  #requireNode(name: string): NodeState {
    const state = this.#nodes.get(name);
    if (state === undefined) throw new AksEmuError('AKS_EMU_NOT_FOUND', `nodes "${name}" not found`);
    return state;
  }

  #facts(): RuntimeFacts {
    const merged = new Map([...this.#probeResults, ...this.#forcedReadiness]);
    // Sorted, so that equal facts serialise equally (see #rebuild).
    const podReadiness = Object.fromEntries([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const stoppedNodes: string[] = [];
    const notReadyNodes: string[] = [];
    for (const [name, state] of this.#nodes) {
      if (state.stoppedByUser || !state.alive) stoppedNodes.push(name);
      if (state.notReady) notReadyNodes.push(name);
    }
    return { stoppedNodes, notReadyNodes, podReadiness };
  }

  /** Heartbeats repeat the same facts; only a real change makes a new version. */
  #changed(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return this.#sync.request();
  }

  #rebuild(): void {
    if (this.#stopped) return;
    const facts = this.#facts();
    const key = JSON.stringify(facts);
    if (key === this.#factsKey) return;
    this.#snapshot = this.#build(facts, key);
    this.emit('snapshot', this.#snapshot);
  }

  #build(facts: RuntimeFacts = this.#facts(), key = JSON.stringify(facts)): Snapshot {
    this.#factsKey = key;
    const built = buildSnapshot({
      manifests: this.#manifests,
      config: this.config,
      allocation: this.#allocation,
      facts,
      version: ++this.#version,
      now: new Date(this.#clock.now()),
    });
    const snapshot = withGatewayConfig(withIngressConfig(built, this.#manifests, this.config), this.#manifests);
    this.created.observe(snapshot);
    return snapshot;
  }
}
