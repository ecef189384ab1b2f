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
import type { PodInfo, Snapshot } from '../../cluster/snapshot.js';
import type { ClusterConfig } from '../../config/types.js';
import { realClock, type Clock } from '../../dataplane/clock.js';
import { buildRouter, type Router } from '../../dataplane/ingress/index.js';
import type { DataPlaneStats, ProbeStatus, TimerHandle } from '../../dataplane/index.js';
import { AksEmuError } from '../../errors/index.js';
import type { Manifests } from '../../model/types.js';
import type { FaultControl } from '../../api/fault-routes.js';
import { ProbeTransitions, renderMetrics } from '../../dataplane/observe/metrics.js';
import type { TraceQuery, TraceView } from '../../dataplane/observe/traces.js';
import { Counters } from '../../dataplane/stats.js';
import { ApiStatusError } from '../../errors/index.js';
import { targetCatalog } from '../../faults/catalog.js';
import type { Fault } from '../../faults/types.js';
import { validateFault } from '../../faults/validate.js';
import { ClusterState } from '../cluster-state.js';
import { FaultRegistry } from '../fault-registry.js';
import { federate } from './federate.js';
import { followRoleTraces, gatherTraces, getText, type RoleEndpoint } from './role-gather.js';
import type { CreationClock } from '../creation-clock.js';
import { seededRandom } from '../embedded-cluster.js';
import { SyncRunner } from '../sync-runner.js';
import type { ContainerPodControl } from './container-pod-control.js';
import {
  heartbeatIntervalMs,
  MISSED_HEARTBEATS,
  type FaultSetLine,
  type LoadBalancerStatusReport,
  type NodeStatusReply,
  type NodeStatusReport,
  type RoleObserveReport,
} from './protocol.js';

export interface ControlPlaneOptions {
  readonly config: ClusterConfig;
  readonly manifests: Manifests;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly log?: (line: string) => void;
  /** Logs and kills of container pods, where the Docker socket is mounted into control. */
  readonly containers?: ContainerPodControl;
}

/** What control knows of a node container beyond the shared cluster state. */
interface NodeLink {
  bootId: string | undefined;
  heartbeatTimer: TimerHandle | undefined;
  stats: DataPlaneStats | undefined;
  observe: RoleObserveReport;
}

export interface ControlPlaneEvents {
  snapshot: [Snapshot];
  /** The active faults changed: the roles' fault watch sends the new set. */
  faults: [FaultSetLine];
  error: [unknown];
}

export class ContainerControlPlane extends EventEmitter<ControlPlaneEvents> implements AdminBackend, FaultControl {
  readonly config: ClusterConfig;
  readonly #state: ClusterState;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #containers: ContainerPodControl | undefined;
  readonly #nodes = new Map<string, NodeLink>();
  readonly #sync: SyncRunner;
  readonly #faults: FaultRegistry;
  #loadBalancer: LoadBalancerStatusReport | undefined;
  #router: { readonly config: unknown; readonly router: Router } | undefined;
  #snapshot: Snapshot;
  #factsKey = '';
  #stopped = false;

  /** Allocates (throws ManifestInvalidError on bad manifests) and builds the first snapshot. */
  constructor(options: ControlPlaneOptions) {
    super();
    this.config = options.config;
    this.#clock = options.clock ?? realClock;
    this.#log = options.log ?? (() => {});
    this.#containers = options.containers;
    this.#state = new ClusterState({
      config: options.config,
      manifests: options.manifests,
      random: options.random ?? seededRandom(options.config.seed),
      clock: this.#clock,
      nodesReportAtStart: false,
      onChange: () => void this.#changed(),
      log: this.#log,
    });
    for (const warning of this.#state.warnings) this.#log(`warning: ${warning}`);
    for (const name of options.config.nodes) this.#nodes.set(name, { bootId: undefined, heartbeatTimer: undefined, stats: undefined, observe: {} });
    this.#snapshot = this.#build();
    this.#sync = new SyncRunner(
      async () => this.#rebuild(),
      (err) => this.emit('error', err),
    );
    // Faults on runtime facts act here (control owns them); the others go to the roles' hops.
    this.#faults = new FaultRegistry(this.#clock, {
      stopNode: (name) => this.stopNode(name),
      startNode: (name) => this.startNode(name),
      setPodReady: async (key, ready) => {
        if (ready === null && !this.#state.hasPod(key)) return;
        await this.setPodReady(key, ready);
      },
      crashPod: async (key) => {
        const [namespace = '', name = ''] = key.split('/');
        await this.crashPod(namespace, name);
      },
      changed: () => this.emit('faults', this.faultSet()),
      log: this.#log,
    });
  }

  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  get created(): CreationClock {
    return this.#state.created;
  }

  /** The user's manifests plus the built-in ingress controller's objects. */
  get manifests(): Manifests {
    return this.#state.manifests;
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
    for (const [name, link] of this.#nodes) nodes[name] = link.stats;
    return { loadBalancer: this.#loadBalancer?.stats, nodes };
  }

  /** The active faults as the roles' fault watch sends them. */
  faultSet(): FaultSetLine {
    return {
      kind: 'FaultSet',
      faults: this.#faults.active().map((f) => ({ id: f.id, spec: f.spec, target: f.target, startedAt: f.startedAt })),
    };
  }

  get faultControl(): FaultControl {
    return this;
  }

  /**
   * Validated against control's snapshot (a 422 naming the field), then refused with a 422
   * naming the type where the container runtime cannot do it: `crash` of a built-in pod
   * (only container pods have a container to kill here) and `crash` with `restartAfter`
   * (the node restarts a killed container on kubelet's own back-off, not after a set time).
   */
  async addFault(body: unknown): Promise<Fault> {
    const request = validateFault(body, targetCatalog(this.#snapshot, this.manifests));
    if (request.spec.type === 'crash') {
      const { namespace, name } = request.target;
      const pod = this.#snapshot.pods.find((p) => p.namespace === namespace && p.name === name);
      if (pod !== undefined && pod.runtime.kind !== 'container') {
        throw unsupported(
          'target',
          `fault type crash: pod ${namespace}/${name} is a built-in ${pod.runtime.kind} pod, and the container runtime crashes container pods only (their node restarts them)`,
        );
      }
      const params = (body as { params?: unknown }).params;
      if (typeof params === 'object' && params !== null && 'restartAfter' in params) {
        throw unsupported(
          'params.restartAfter',
          'fault type crash: restartAfter is not supported by the container runtime (the node restarts the killed container on its own back-off)',
        );
      }
    }
    return this.#faults.add(request);
  }

  /** `fired`: control's own (runtime facts) plus what each role last reported of its hops. */
  faults(): Fault[] {
    return this.#faults.list().map((f) => ({ ...f, fired: f.fired + this.#roleFired(f.id) }));
  }

  fault(id: string): Fault {
    const f = this.#faults.get(id);
    return { ...f, fired: f.fired + this.#roleFired(id) };
  }

  removeFault(id: string): Promise<Fault> {
    return this.#faults.remove(id);
  }

  clearFaults(): Promise<Fault[]> {
    return this.#faults.clear();
  }

  /**
   * Every role's own /metrics (read now) in one exposition, labelled job/instance as a
   * Prometheus federation would, after control's: the faults with their fired counts and
   * the cluster's state as control's snapshot has it.
   */
  async metrics(): Promise<string> {
    const own = renderMetrics({
      snapshot: this.#snapshot,
      counters: new Counters(),
      global: { rejectedOutsideCluster: 0, discardedBytes: 0 },
      probes: [],
      probeTransitions: new ProbeTransitions(),
      faults: this.faults().map((f) => ({ id: f.id, type: f.type, target: f.target, fired: f.fired })),
    });
    // A role that reports but serves no endpoint (yet) is counted down, not left out.
    const roles = this.#reportingRoles();
    const texts = await Promise.all(
      roles.map((role) =>
        role.url === undefined
          ? undefined
          : getText(new URL('/metrics', role.url).href).catch((err: Error) => {
              this.#log(`metrics of ${role.job} ${role.instance}: ${err.message}`);
              return undefined;
            }),
      ),
    );
    return federate(
      [{ job: 'control', instance: 'control', text: own }, ...roles.map((role, i) => ({ job: role.job, instance: role.instance, text: texts[i] }))],
      this.#log,
    );
  }

  traces(query: TraceQuery): Promise<TraceView[]> {
    return gatherTraces(this.#roleEndpoints(), query, this.#log);
  }

  followTraces(query: TraceQuery, onTrace: (view: TraceView) => void): () => void {
    return followRoleTraces(this.#roleEndpoints(), query, onTrace, this.#log);
  }

  #roleEndpoints(): RoleEndpoint[] {
    return this.#reportingRoles().filter((role): role is RoleEndpoint => role.url !== undefined);
  }

  /** The lb and the nodes that have reported, with the observe endpoint each said it serves. */
  #reportingRoles(): { readonly job: RoleEndpoint['job']; readonly instance: string; readonly url: string | undefined }[] {
    const roles: { job: RoleEndpoint['job']; instance: string; url: string | undefined }[] = [];
    if (this.#loadBalancer !== undefined) roles.push({ job: 'lb', instance: 'lb', url: this.#loadBalancer.observeUrl });
    for (const [name, link] of this.#nodes) if (link.bootId !== undefined) roles.push({ job: 'node', instance: name, url: link.observe.observeUrl });
    return roles;
  }

  #roleFired(id: string): number {
    let fired = this.#loadBalancer?.faultsFired?.[id] ?? 0;
    for (const link of this.#nodes.values()) fired += link.observe.faultsFired?.[id] ?? 0;
    return fired;
  }

  /** A node container's heartbeat; the reply carries what it must enforce locally. */
  nodeStatus(name: string, report: NodeStatusReport): NodeStatusReply {
    this.#state.requireNode(name);
    const link = this.#nodes.get(name)!;
    if (link.bootId !== report.bootId) {
      if (link.bootId !== undefined) this.#log(`node ${name} restarted: its pods start NotReady until their probes pass`);
      link.bootId = report.bootId;
      this.#state.forgetProbeResultsOn(name);
    }
    for (const [key, ready] of Object.entries(report.podReadiness)) this.#state.setProbeResult(key, ready);
    if (report.podStatuses !== undefined) this.#state.setPodStatusesOn(name, report.podStatuses);
    link.stats = report.stats;
    link.observe = { observeUrl: report.observeUrl, faultsFired: report.faultsFired };
    if (this.#state.nodeReported(name)) this.#log(`node ${name} is reporting`);
    if (link.heartbeatTimer !== undefined) this.#clock.clearTimeout(link.heartbeatTimer);
    link.heartbeatTimer = this.#clock.setTimeout(() => this.#heartbeatsLost(name, link), this.heartbeatIntervalMs * MISSED_HEARTBEATS);
    void this.#changed();
    const forcedReadiness: Record<string, boolean> = {};
    for (const pod of this.#snapshot.pods) {
      const key = `${pod.namespace}/${pod.name}`;
      const forced = this.#state.forcedReadiness(key);
      if (pod.nodeName === name && forced !== undefined) forcedReadiness[key] = forced;
    }
    return { forcedReadiness, heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  loadBalancerStatus(report: LoadBalancerStatusReport): void {
    this.#loadBalancer = report;
  }

  /** `aks-emu node stop`: the node container closes its listeners and pods, as a VM that dies. */
  async stopNode(name: string): Promise<void> {
    if (!this.#state.stopNode(name)) return;
    await this.#changed();
  }

  async startNode(name: string): Promise<void> {
    this.#state.startNode(name);
    await this.#changed();
  }

  async setPodReady(podKey: string, ready: boolean | null): Promise<void> {
    this.#state.setPodReady(podKey, ready);
    await this.#changed();
  }

  /** `aks-emu logs`: container pods' logs come from the engine; other kinds keep none in the container runtime. */
  async podLogs(namespace: string, name: string, options: { container?: string; previous?: boolean }): Promise<string> {
    const pod = this.#containerPod(namespace, name);
    const container = options.container ?? pod.containers[0]?.name ?? '';
    if (!pod.containers.some((c) => c.name === container)) throw new AksEmuError('AKS_EMU_USAGE', `container ${container} is not valid for pod ${name}`);
    return this.#containers!.logs(namespace, name, container, options.previous === true);
  }

  /** `aks-emu pod kill`: the pod's containers are killed; their node restarts them. */
  async crashPod(namespace: string, name: string): Promise<void> {
    this.#containerPod(namespace, name);
    await this.#containers!.crash(namespace, name);
  }

  #containerPod(namespace: string, name: string): PodInfo {
    const pod = this.#snapshot.pods.find((p) => p.namespace === namespace && p.name === name);
    if (pod === undefined) throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${name}" not found in namespace "${namespace}"`);
    if (pod.runtime.kind !== 'container') {
      throw new AksEmuError(
        'AKS_EMU_USAGE',
        `pod ${namespace}/${name} is a built-in ${pod.runtime.kind} pod: it keeps no logs of its own and has no container to kill (only container pods do here)`,
      );
    }
    if (this.#containers === undefined)
      throw new AksEmuError('AKS_EMU_NOT_FOUND', "control has no Docker socket mounted: container pods' logs are not reachable from here");
    return pod;
  }

  /** Waits until every queued change is in the snapshot. */
  settled(): Promise<void> {
    return this.#sync.idle();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#faults.stop();
    await this.#sync.idle();
    for (const link of this.#nodes.values()) if (link.heartbeatTimer !== undefined) this.#clock.clearTimeout(link.heartbeatTimer);
    this.#state.stop();
  }

  #heartbeatsLost(name: string, link: NodeLink): void {
    link.heartbeatTimer = undefined;
    this.#log(`node ${name}: no heartbeat for ${MISSED_HEARTBEATS} intervals; NotReady after the grace period`);
    this.#state.nodeLost(name);
    void this.#changed();
  }

  /** Heartbeats repeat the same facts; only a real change makes a new version. */
  #changed(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return this.#sync.request();
  }

  #rebuild(): void {
    if (this.#stopped) return;
    const facts = this.#state.facts();
    const key = JSON.stringify(facts);
    if (key === this.#factsKey) return;
    this.#snapshot = this.#build(facts, key);
    this.emit('snapshot', this.#snapshot);
  }

  #build(facts = this.#state.facts(), key = JSON.stringify(facts)): Snapshot {
    this.#factsKey = key;
    return this.#state.build(facts);
  }
}

function unsupported(field: string, message: string): ApiStatusError {
  return new ApiStatusError('Invalid', message, { causes: [{ reason: 'FieldValueNotSupported', message, field }] });
}
