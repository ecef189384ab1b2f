/**
 * What the containers of the container runtime say to each other over HTTP: `control`
 * streams snapshots to `lb` and `node` containers, nodes report pod readiness (their
 * kubelet) and heartbeat, the lb reports its probe states. Paths live beside the admin
 * API's, under /aks-emu/v1.
 */
import type { ContainerStatusInfo } from '../../cluster/snapshot.js';
import type { DataPlaneStats, ProbeStatus } from '../../dataplane/index.js';
import type { FaultSpec, FaultTarget } from '../../faults/types.js';

/** NDJSON: the current snapshot at once, then one line per new version. */
export const WATCH_PATH = '/aks-emu/v1/snapshot?watch=1';
export const LB_STATUS_PATH = '/aks-emu/v1/runtime/loadbalancer/status';
/**
 * NDJSON beside the snapshot watch (the snapshot stays the pure cluster state): the
 * active faults at once, then one FaultSetLine after every add, removal or expiry. Each
 * role compiles the table its hops read from these and the snapshot it has applied
 * (src/faults/compile.ts), as the embedded runtime does from its registry.
 */
export const FAULT_WATCH_PATH = '/aks-emu/v1/runtime/faults?watch=1';

/** A fault as control's registry holds it, without what it counted (each role counts its own). */
export interface WireFault {
  readonly id: string;
  readonly spec: FaultSpec;
  readonly target: FaultTarget;
  /** Epoch ms the fault was added (slow-start fades from it). */
  readonly startedAt: number;
}

export interface FaultSetLine {
  readonly kind: 'FaultSet';
  readonly faults: readonly WireFault[];
}

/**
 * Where a role serves its own GET /metrics and GET /aks-emu/v1/traces (observe-routes.ts):
 * on its vnet address at this port. Control gathers from it when its own are read.
 */
export const ROLE_OBSERVE_PORT = 7071;

/** What every role adds to its reports: where control reads its metrics and traces, and what its faults did. */
export interface RoleObserveReport {
  /** `http://ADDRESS:PORT` of the role's observe endpoint. */
  readonly observeUrl?: string;
  /** Fault id → how often it took effect at this role's hops. */
  readonly faultsFired?: Readonly<Record<string, number>>;
}

export function nodeStatusPath(node: string): string {
  return `/aks-emu/v1/runtime/nodes/${encodeURIComponent(node)}/status`;
}

/** A node's heartbeat: kubelet's node status and its pods' readiness as its prober sees it. */
export interface NodeStatusReport extends RoleObserveReport {
  /** New on every start of the node container: a restarted node's pods start NotReady. */
  readonly bootId: string;
  /** `ns/pod` → ready, for the pods running on this node that have a probe result. */
  readonly podReadiness: Readonly<Record<string, boolean>>;
  /** `ns/pod` → container statuses, for the container pods running on this node (all of them, every time). */
  readonly podStatuses?: Readonly<Record<string, readonly ContainerStatusInfo[]>>;
  readonly stats?: DataPlaneStats;
}

export interface NodeStatusReply {
  /** Readiness forced through the admin API for this node's pods (their health endpoints follow it). */
  readonly forcedReadiness: Readonly<Record<string, boolean>>;
  readonly heartbeatIntervalMs: number;
}

export interface LoadBalancerStatusReport extends RoleObserveReport {
  readonly probes: readonly ProbeStatus[];
  readonly stats?: DataPlaneStats;
}

/**
 * kubelet renews its node lease every 10 s (nodeStatusUpdateFrequency); scaled like every
 * other duration, with a floor that keeps a 2-core machine from drowning in heartbeats.
 */
export function heartbeatIntervalMs(timeScale: number): number {
  return Math.min(10_000, Math.max(200, 10_000 * timeScale));
}

/** Heartbeats missed in a row before control marks a node's listeners down (running: false). */
export const MISSED_HEARTBEATS = 3;
