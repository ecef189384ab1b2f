/**
 * Pods as the snapshot shows them: placement from the allocation, readiness from the
 * runtime facts. A pod is Ready when its node is Ready, it is Running, and its
 * readiness probes say so: with a readinessProbe it needs a passing result (kubelet
 * starts such a container NotReady); without one it is Ready unless forced otherwise.
 */
import { objectKey } from '../model/types.js';
import type { ContainerStatusInfo, NodeInfo, PodInfo, PodKind } from './snapshot.js';
import type { PodPlacement } from './scheduler.js';
import type { DesiredPod } from './workload-pods.js';

export interface PodFacts {
  /** `ns/pod` → probe result or forced value; absent = no result yet. */
  readonly podReadiness: Readonly<Record<string, boolean>>;
  /** `ns/pod` → statuses of supervised containers; a container not running makes the pod unready. */
  readonly podStatuses?: Readonly<Record<string, readonly ContainerStatusInfo[]>>;
}

/** A pod-template annotation that picks a built-in runtime other than the echo pod. */
export const RUNTIME_ANNOTATION = 'aks-emu.io/runtime';

/** Which pod kind serves a pod; the runtime passes the pod-kind registry's choice. */
export type ChoosePodKind = (pod: DesiredPod) => PodKind;

/** Without a registry (control-plane tests), every pod is an echo pod. */
export const echoForAll: ChoosePodKind = () => ({ kind: 'echo' });

export function hasReadinessProbe(pod: DesiredPod): boolean {
  return pod.spec.containers.some((c) => c.readinessProbe !== undefined);
}

/**
 * What a pod kind that supervises containers has reported; before its first report, its
 * containers are being created (kubelet's ContainerCreating), not running.
 */
export function reportedStatuses(pod: DesiredPod, kind: PodKind, facts: PodFacts): readonly ContainerStatusInfo[] | undefined {
  const reported = facts.podStatuses?.[objectKey(pod)];
  if (reported !== undefined || kind.kind !== 'process') return reported;
  return kind.containers.map((c) => ({ name: c.name, state: { waiting: { reason: 'ContainerCreating' } }, ready: false, restartCount: 0, started: false }));
}

export function isPodReady(
  pod: DesiredPod,
  phase: PodInfo['phase'],
  node: NodeInfo | undefined,
  facts: PodFacts,
  statuses: readonly ContainerStatusInfo[] | undefined = facts.podStatuses?.[objectKey(pod)],
): boolean {
  // A stopped node's pods keep their last Ready state until the node controller marks the
  // node NotReady (node-monitor-grace-period): kube-proxy elsewhere still sends them traffic.
  if (phase !== 'Running' || !node?.ready) return false;
  // ContainersReady needs every container running (kubelet's status manager), whatever its probe last said.
  if (statuses !== undefined && statuses.some((s) => !('running' in s.state))) return false;
  const result = facts.podReadiness[objectKey(pod)];
  return hasReadinessProbe(pod) ? result === true : result !== false;
}

export function podInfos(
  pods: readonly DesiredPod[],
  placements: Readonly<Record<string, PodPlacement>>,
  nodes: readonly NodeInfo[],
  facts: PodFacts,
  choose: ChoosePodKind = echoForAll,
): PodInfo[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return pods.map((pod) => {
    const placement = placements[objectKey(pod)];
    const node = placement?.nodeName === undefined ? undefined : byName.get(placement.nodeName);
    const phase = node && placement?.ip ? 'Running' : 'Pending';
    const runtime = choose(pod);
    const statuses = reportedStatuses(pod, runtime, facts);
    const ready = isPodReady(pod, phase, node, facts, statuses);
    return {
      namespace: pod.namespace,
      name: pod.name,
      uid: pod.uid,
      nodeName: phase === 'Running' ? node!.name : '',
      ip: phase === 'Running' ? placement!.ip! : '',
      labels: pod.labels,
      annotations: pod.annotations,
      ownerKind: pod.ownerKind,
      ownerName: pod.ownerName,
      containers: pod.spec.containers,
      ...(pod.spec.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds } : {}),
      ...(pod.spec.restartPolicy !== undefined ? { restartPolicy: pod.spec.restartPolicy } : {}),
      ...(pod.spec.hostname !== undefined ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec.subdomain !== undefined ? { subdomain: pod.spec.subdomain } : {}),
      phase,
      ...(phase === 'Pending' && placement?.pending ? { pending: placement.pending } : {}),
      ready,
      runtime,
      ...(phase === 'Running' && statuses ? { containerStatuses: statuses.map((c) => ({ ...c, ready: 'running' in c.state && ready })) } : {}),
      source: pod.source,
    };
  });
}
