/**
 * Why a pod is Pending, in the words of the component that would say so on AKS.
 *
 * kube-scheduler (FitError, with preemption's PostFilter result) writes the PodScheduled
 * condition `False`, reason `Unschedulable`, and a message that counts the nodes per
 * failing filter, sorted as strings:
 *   0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available:
 *   3 No preemption victims found for incoming pod.
 * NodeResourcesFit says `Too many pods` when a node already runs its max-pods (AKS: 110
 * with kubenet, 250 with Azure CNI Overlay); NodeAffinity says `node(s) didn't match Pod's
 * node affinity/selector`. Preemption could only help on nodes that failed for resources,
 * and every pod here has the same priority, so it finds no victims there.
 *
 * A pod bound to its node without the scheduler (spec.nodeName) is admitted by kubelet,
 * which rejects it over max-pods with reason `OutOfpods`. A scheduled pod whose node has
 * no pod address left never gets a sandbox: kubelet's event is FailedCreatePodSandBox
 * with host-local IPAM's `failed to allocate for range 0: no IP addresses available in
 * range set`. With a /24 per node (253 pod addresses) and max-pods at most 250, max-pods
 * is always met first; the address case is kept for completeness.
 */
import { formatIPv4, parseCIDR } from '../manifests/ip.js';
import { objectKey } from '../model/types.js';
import type { PodPlacement } from './scheduler.js';
import type { DesiredPod } from './workload-pods.js';

export type PendingReason =
  | { readonly reason: 'Unschedulable'; readonly message: string }
  | { readonly reason: 'OutOfpods'; readonly message: string }
  | { readonly reason: 'FailedCreatePodSandBox'; readonly message: string };

/** What one node's filters said about one pod. */
export type NodeVerdict = 'fits' | 'too-many-pods' | 'selector' | 'unschedulable';

const FILTER_WORDS: Record<Exclude<NodeVerdict, 'fits'>, string> = {
  unschedulable: 'node(s) were unschedulable',
  'too-many-pods': 'Too many pods',
  selector: "node(s) didn't match Pod's node affinity/selector",
};

const PREEMPTION_WORDS: Record<Exclude<NodeVerdict, 'fits'>, string> = {
  unschedulable: 'Preemption is not helpful for scheduling',
  'too-many-pods': 'No preemption victims found for incoming pod',
  selector: 'Preemption is not helpful for scheduling',
};

/** `3 Too many pods, 1 node(s) didn't ...`: count + reason, sorted as Go's sort.Strings sorts them. */
function histogram(verdicts: readonly NodeVerdict[], words: Record<Exclude<NodeVerdict, 'fits'>, string>): string {
  const counts = new Map<string, number>();
  for (const v of verdicts) if (v !== 'fits') counts.set(words[v], (counts.get(words[v]) ?? 0) + 1);
  return [...counts]
    .map(([reason, n]) => `${n} ${reason}`)
    .sort()
    .join(', ');
}

export function unschedulable(verdicts: readonly NodeVerdict[]): PendingReason {
  const total = verdicts.length;
  return {
    reason: 'Unschedulable',
    message:
      `0/${total} nodes are available: ${histogram(verdicts, FILTER_WORDS)}. ` +
      `preemption: 0/${total} nodes are available: ${histogram(verdicts, PREEMPTION_WORDS)}.`,
  };
}

export function outOfPods(maxPods: number): PendingReason {
  return { reason: 'OutOfpods', message: `Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: ${maxPods}, capacity: ${maxPods}` };
}

/** host-local's range set is the node's pod CIDR from .1 to the last host. */
export function noPodAddress(podCIDR: string): PendingReason {
  const cidr = parseCIDR(podCIDR);
  const range = cidr ? `${formatIPv4(cidr.base + 1)}-${formatIPv4(cidr.base + 2 ** (32 - cidr.bits) - 2)}` : podCIDR;
  return {
    reason: 'FailedCreatePodSandBox',
    message:
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox: ' +
      `plugin type="bridge" failed (add): failed to allocate for range 0: no IP addresses available in range set: ${range}`,
  };
}

/**
 * One line per workload and reason, for the start of `up` and for `validate`: AKS shows
 * these only as events and pod conditions, which are easy to miss when most replicas run.
 */
export function pendingPodWarnings(pods: readonly DesiredPod[], placements: Readonly<Record<string, PodPlacement>>, maxPods: number): string[] {
  const groups = new Map<string, { owner: string; reason: PendingReason; pending: number }>();
  const totals = new Map<string, number>();
  const ownerOf = (pod: DesiredPod) => `${pod.ownerKind} ${pod.namespace}/${pod.ownerName}`;
  for (const pod of pods) {
    const owner = ownerOf(pod);
    totals.set(owner, (totals.get(owner) ?? 0) + 1);
    const pending = placements[objectKey(pod)]?.pending;
    if (!pending) continue;
    const id = `${owner}\n${pending.message}`;
    const group = groups.get(id) ?? { owner, reason: pending, pending: 0 };
    group.pending += 1;
    groups.set(id, group);
  }
  return [...groups.values()].map(({ owner, reason, pending }) => {
    const limit = reason.reason === 'FailedCreatePodSandBox' ? '' : ` (a node runs at most ${maxPods} pods: AKS --max-pods, maxPods in aks-emu.yaml)`;
    return `${owner}: ${pending} of ${totals.get(owner)} pods Pending, ${reason.reason}: ${reason.message}${limit}`;
  });
}
