/**
 * The cluster's state as both runtimes keep it: the manifests and their allocation, the
 * nodes (stopped by the user, reporting or not, NotReady after node-monitor-grace-period),
 * readiness from probes and readiness forced through the admin API. build() turns it into
 * a snapshot through the pure control plane, with each pod's kind chosen by the pod-kind
 * registry. The embedded cluster and the container control role differ only in where the
 * facts come from (their own prober, or node heartbeats) and where the snapshot goes.
 */
import { buildSnapshot, type Allocation, type RuntimeFacts } from '../cluster/index.js';
import { defaultNodeMeta, type NodeMeta } from '../cluster/nodes.js';
import type { ContainerStatusInfo, Snapshot } from '../cluster/snapshot.js';
import type { ClusterConfig } from '../config/types.js';
import { realClock, type Clock, type TimerHandle } from '../dataplane/clock.js';
import { AksEmuError, ManifestInvalidError, type FieldError } from '../errors/index.js';
import type { Manifests } from '../model/types.js';
import { choosePodKind } from '../pods/kinds/index.js';
import { checkManifests, type CheckResult } from './check.js';
import { CreationClock } from './creation-clock.js';
import { withIngressConfig } from './ingress.js';
import { withGatewayConfig } from './gateway.js';

export interface ClusterStateOptions {
  readonly config: ClusterConfig;
  readonly manifests: Manifests;
  readonly random: () => number;
  readonly clock?: Clock;
  /** Whether nodes report from the start (embedded) or only after their first heartbeat (containers). */
  readonly nodesReportAtStart: boolean;
  /** A fact changed on its own (a grace period ran out): the owner rebuilds. */
  onChange(): void;
  log(line: string): void;
}

interface NodeState {
  /** Its kubelet reports (always, embedded; heartbeats arrive, containers). */
  alive: boolean;
  /** Stopped through the admin API (`aks-emu node stop`). */
  stoppedByUser: boolean;
  notReady: boolean;
  graceTimer: TimerHandle | undefined;
}

export const podNotFound = (podKey: string): AksEmuError => {
  const [ns, name] = podKey.split('/');
  return new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${name}" not found in namespace "${ns}"`);
};

export class ClusterState {
  readonly config: ClusterConfig;
  readonly created = new CreationClock();
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #options: ClusterStateOptions;
  /** What the cluster runs: the user's manifests plus built-in objects (ingress controller). */
  #effective: Manifests;
  /** The user's manifests, checked again when a node or eviction changes placement. */
  #user: Manifests;
  #allocation: Allocation;
  /** Labels, annotations and cordon of each node, as written through the API. */
  readonly #nodeMeta = new Map<string, NodeMeta>();
  /** Pods evicted so far (`ns/pod`): their names stay taken, so replacements get new ones. */
  readonly #evicted = new Set<string>();
  #warnings: readonly string[] = [];
  readonly #nodes = new Map<string, NodeState>();
  readonly #probeResults = new Map<string, boolean>();
  readonly #forcedReadiness = new Map<string, boolean>();
  readonly #podStatuses = new Map<string, readonly ContainerStatusInfo[]>();
  #last: Snapshot | undefined;
  #version = 0;
  /**
   * The last check(): a write is checked, then applied with the same set, and apply takes
   * this result instead of allocating the whole set again (at 1,000 Services that is a
   * good part of a write's cost). Only while nothing it depended on has changed.
   */
  #checked: { readonly manifests: Manifests; readonly previous: Allocation; readonly facts: string; readonly result: CheckResult } | undefined;

  /** Checks the manifests (throws ManifestInvalidError with every error) and allocates. */
  constructor(options: ClusterStateOptions) {
    this.config = options.config;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random;
    for (const name of options.config.nodes) this.#nodeMeta.set(name, defaultNodeMeta(name));
    this.#user = options.manifests;
    const { effective, allocation } = this.#check(options.manifests);
    this.#effective = effective;
    this.#allocation = allocation;
    for (const name of options.config.nodes) {
      // A container node is NotReady until its kubelet first reports.
      const alive = options.nodesReportAtStart;
      this.#nodes.set(name, { alive, stoppedByUser: false, notReady: !alive, graceTimer: undefined });
    }
  }

  get manifests(): Manifests {
    return this.#effective;
  }

  /** What the last accepted check said will run, but not as asked (pods left Pending and why). */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** The snapshot build() made last. */
  get last(): Snapshot | undefined {
    return this.#last;
  }

  /** Replaces the workload; allocations of objects that remain are kept. Invalid sets change nothing. */
  apply(manifests: Manifests): void {
    const { effective, allocation } = this.#check(manifests, this.#allocation);
    this.#effective = effective;
    this.#allocation = allocation;
    this.#user = manifests;
  }

  nodeMeta(name: string): NodeMeta {
    this.#node(name);
    return this.#nodeMeta.get(name) ?? defaultNodeMeta(name);
  }

  /**
   * New labels, annotations or cordon for a node: placement runs again, where pods placed
   * before keep their node (cordon evicts nothing) and new pods avoid a cordoned node.
   */
  setNodeMeta(name: string, meta: NodeMeta): void {
    this.#node(name);
    const previous = this.nodeMeta(name);
    this.#nodeMeta.set(name, meta);
    this.#reapply(() => this.#nodeMeta.set(name, previous));
  }

  /**
   * The eviction API: the pod goes, and its controller creates a replacement under a new
   * name (a StatefulSet's under the same name), placed afresh, so not on a cordoned node.
   */
  evictPod(podKey: string): void {
    if (!this.hasPod(podKey)) throw podNotFound(podKey);
    const allocation = this.#allocation;
    this.#evicted.add(podKey);
    const { [podKey]: _gone, ...pods } = allocation.pods;
    this.#allocation = { ...allocation, pods };
    this.#reapply(() => {
      this.#evicted.delete(podKey);
      this.#allocation = allocation;
    });
    this.forgetProbeResult(podKey);
    this.#forcedReadiness.delete(podKey);
  }

  /** Places the pods again after a node or eviction change; on failure `undo` puts the change back, so nothing is half-applied. */
  #reapply(undo: () => void): void {
    try {
      this.apply(this.#user);
    } catch (err) {
      undo();
      throw err;
    }
  }

  requireNode(name: string): void {
    this.#node(name);
  }

  /** Like a VM that dies: its listeners and pods go at once; Ready goes after the grace period. */
  stopNode(name: string): boolean {
    const state = this.#node(name);
    if (state.stoppedByUser) return false;
    state.stoppedByUser = true;
    this.#startGrace(name, state);
    return true;
  }

  /** Its pods start again, NotReady until their probes pass, as after a VM reboot. */
  startNode(name: string): void {
    const state = this.#node(name);
    state.stoppedByUser = false;
    if (state.alive) {
      state.notReady = false;
      this.#clearGrace(state);
    }
    this.forgetProbeResultsOn(name);
  }

  /** A node's kubelet reported; true when it had not been reporting. */
  nodeReported(name: string): boolean {
    const state = this.#node(name);
    const wasAlive = state.alive;
    state.alive = true;
    if (!state.stoppedByUser) {
      state.notReady = false;
      this.#clearGrace(state);
    }
    return !wasAlive;
  }

  /** A node's kubelet stopped reporting: its listeners count as down, NotReady after the grace period. */
  nodeLost(name: string): void {
    const state = this.#node(name);
    state.alive = false;
    this.#startGrace(name, state);
  }

  setProbeResult(podKey: string, ready: boolean): void {
    this.#probeResults.set(podKey, ready);
  }

  /** A node's report of its container pods' statuses: pods of that node it does not list have none. */
  setPodStatusesOn(node: string, statuses: Readonly<Record<string, readonly ContainerStatusInfo[]>>): void {
    for (const pod of this.#last?.pods ?? []) {
      const key = `${pod.namespace}/${pod.name}`;
      if (pod.nodeName === node) this.setPodStatuses(key, statuses[key]);
    }
  }

  forgetProbeResult(podKey: string): void {
    this.#probeResults.delete(podKey);
  }

  /** Statuses of a pod's supervised containers (process pods); undefined forgets them. */
  setPodStatuses(podKey: string, statuses: readonly ContainerStatusInfo[] | undefined): void {
    if (statuses === undefined) this.#podStatuses.delete(podKey);
    else this.#podStatuses.set(podKey, statuses);
  }

  forgetProbeResultsOn(node: string): void {
    for (const pod of this.#last?.pods ?? []) if (pod.nodeName === node) this.#probeResults.delete(`${pod.namespace}/${pod.name}`);
  }

  hasPod(podKey: string): boolean {
    return this.#last?.pods.some((p) => `${p.namespace}/${p.name}` === podKey) ?? false;
  }

  /** Forces a pod's readiness (true/false) or hands it back to its probes (null). */
  setPodReady(podKey: string, ready: boolean | null): void {
    if (!this.hasPod(podKey)) throw podNotFound(podKey);
    if (ready === null) this.#forcedReadiness.delete(podKey);
    else this.#forcedReadiness.set(podKey, ready);
  }

  forcedReadiness(podKey: string): boolean | undefined {
    return this.#forcedReadiness.get(podKey);
  }

  facts(): RuntimeFacts {
    const merged = new Map([...this.#probeResults, ...this.#forcedReadiness]);
    // Sorted, so that equal facts serialise equally (the container control plane compares them).
    const podReadiness = Object.fromEntries([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const stoppedNodes: string[] = [];
    const notReadyNodes: string[] = [];
    for (const [name, state] of this.#nodes) {
      if (state.stoppedByUser || !state.alive) stoppedNodes.push(name);
      if (state.notReady) notReadyNodes.push(name);
    }
    const podStatuses = Object.fromEntries([...this.#podStatuses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      stoppedNodes,
      notReadyNodes,
      podReadiness,
      ...(this.#podStatuses.size > 0 ? { podStatuses } : {}),
      ...this.#placementFacts(),
    };
  }

  build(facts: RuntimeFacts = this.facts()): Snapshot {
    const built = buildSnapshot({
      manifests: this.#effective,
      config: this.config,
      allocation: this.#allocation,
      facts,
      version: ++this.#version,
      now: new Date(this.#clock.now()),
      choosePodKind: (pod) => choosePodKind(pod, { config: this.config, manifests: this.#effective }),
      ...(this.#last === undefined ? {} : { previous: this.#last }),
    });
    const snapshot = withGatewayConfig(withIngressConfig(built, this.#effective, this.config), this.#effective);
    this.created.observe(snapshot);
    this.#last = snapshot;
    return snapshot;
  }

  stop(): void {
    for (const state of this.#nodes.values()) this.#clearGrace(state);
  }

  /** Every error `apply(manifests)` would refuse, changing nothing (the object store validates writes with it). */
  check(manifests: Manifests): readonly FieldError[] {
    const facts = this.#placementFacts();
    const result = checkManifests(manifests, this.config, this.#random, this.#allocation, facts);
    this.#checked = { manifests, previous: this.#allocation, facts: JSON.stringify(facts), result };
    return result.errors;
  }

  #placementFacts(): Pick<RuntimeFacts, 'nodeMeta' | 'evictedPods'> {
    return { nodeMeta: Object.fromEntries(this.#nodeMeta), ...(this.#evicted.size > 0 ? { evictedPods: [...this.#evicted].sort() } : {}) };
  }

  #check(manifests: Manifests, previous?: Allocation): { effective: Manifests; allocation: Allocation } {
    const facts = this.#placementFacts();
    const checked = this.#checked;
    this.#checked = undefined;
    const { effective, allocation, errors, warnings } =
      checked !== undefined &&
      checked.manifests === manifests &&
      previous !== undefined &&
      checked.previous === previous &&
      checked.facts === JSON.stringify(facts)
        ? checked.result
        : checkManifests(manifests, this.config, this.#random, previous, facts);
    if (errors.length > 0) throw new ManifestInvalidError(errors);
    this.#warnings = warnings;
    return { effective, allocation };
  }

  #node(name: string): NodeState {
    const state = this.#nodes.get(name);
    if (state === undefined) throw new AksEmuError('AKS_EMU_NOT_FOUND', `nodes "${name}" not found`);
    return state;
  }

  #startGrace(name: string, state: NodeState): void {
    if (state.graceTimer !== undefined) return;
    const graceMs = this.config.nodeMonitorGracePeriodSeconds * 1000 * this.config.timeScale;
    state.graceTimer = this.#clock.setTimeout(() => {
      state.graceTimer = undefined;
      state.notReady = true;
      this.#options.log(`node ${name} is NotReady (node-monitor-grace-period passed)`);
      this.#options.onChange();
    }, graceMs);
  }

  #clearGrace(state: NodeState): void {
    if (state.graceTimer !== undefined) this.#clock.clearTimeout(state.graceTimer);
    state.graceTimer = undefined;
  }
}
