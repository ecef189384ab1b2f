/**
 * Places pods on nodes and gives them addresses.
 *
 * Placement follows kube-scheduler's defaults in miniature: a pod goes to an eligible node
 * (nodeName, nodeSelector, fewer than max-pods pods) with the fewest pods of the same
 * owner (default topology spreading by hostname), then the fewest pods overall (least
 * allocated), then the lowest node index. A cordoned node (spec.unschedulable) takes no
 * new pod; pods placed before keep their node, as cordon evicts nothing. No eligible node: the pod stays Pending without
 * an address, with the reason kube-scheduler or kubelet would give (pod-pending.ts).
 *
 * Addresses follow the host-local IPAM that kubenet uses on AKS: each node hands out its
 * /24 from .2 (.1 is the cbr0 bridge) upwards, continuing after the last one handed out
 * and wrapping at the end, so a replaced pod gets a new address rather than the old one.
 * hostNetwork pods use the node's address.
 */
import { formatIPv4, parseCIDR, parseIPv4 } from '../manifests/ip.js';
import { objectKey } from '../model/types.js';
import type { NodeSpec } from './nodes.js';
import { selectorMatches } from './labels.js';
import { noPodAddress, outOfPods, unschedulable, type NodeVerdict, type PendingReason } from './pod-pending.js';
import type { DesiredPod } from './workload-pods.js';

export interface PodPlacement {
  readonly uid: string;
  /** undefined: Pending (no node fits, or the named node does not exist). */
  readonly nodeName?: string;
  readonly ip?: string;
  /** Why the pod is Pending; absent for a pod bound to a node that does not exist (nobody reports on it). */
  readonly pending?: PendingReason;
}

export interface Placements {
  /** `namespace/pod` → placement. */
  readonly pods: Record<string, PodPlacement>;
  /** Node name → the host number (in its /24) the next pod address is looked for from. */
  readonly nextPodIP: Record<string, number>;
}

const FIRST_POD_HOST = 2;

class PodAddressPool {
  readonly #base: number;
  readonly #last: number;
  readonly #used = new Set<number>();
  #next: number;

  constructor(podCIDR: string, next: number | undefined) {
    const cidr = parseCIDR(podCIDR);
    this.#base = cidr?.base ?? 0;
    this.#last = cidr ? 2 ** (32 - cidr.bits) - 2 : 0;
    this.#next = next !== undefined && next >= FIRST_POD_HOST && next <= this.#last ? next : FIRST_POD_HOST;
  }

  get next(): number {
    return this.#next;
  }

  /** Keeps an address a pod already has; false when it is not this node's or is taken. */
  keep(ip: string): boolean {
    const host = (parseIPv4(ip) ?? -1) - this.#base;
    if (host < FIRST_POD_HOST || host > this.#last || this.#used.has(host)) return false;
    this.#used.add(host);
    return true;
  }

  take(): string | undefined {
    const size = this.#last - FIRST_POD_HOST + 1;
    if (this.#used.size >= size) return undefined;
    for (let i = 0; i < size; i++) {
      const host = FIRST_POD_HOST + ((this.#next - FIRST_POD_HOST + i) % size);
      if (this.#used.has(host)) continue;
      this.#used.add(host);
      this.#next = host === this.#last ? FIRST_POD_HOST : host + 1;
      return formatIPv4(this.#base + host);
    }
    return undefined;
  }
}

function eligible(pod: DesiredPod, node: NodeSpec): boolean {
  if (pod.boundNode !== undefined) return pod.boundNode === node.name;
  if (pod.spec.nodeName !== undefined && pod.spec.nodeName !== node.name) return false;
  return selectorMatches(pod.spec.nodeSelector, node.labels);
}

/**
 * A placed pod stays on its node when the node's labels change (nodeSelector is
 * IgnoredDuringExecution) or the node is cordoned; only a binding to another node moves it.
 */
const stillBound = (pod: DesiredPod, node: NodeSpec): boolean => (pod.boundNode ?? pod.spec.nodeName ?? node.name) === node.name;

/** Pods the scheduler never sees: kubelet of the named node admits them (or not) itself. */
const boundByName = (pod: DesiredPod): boolean => pod.boundNode === undefined && pod.spec.nodeName !== undefined;

const ownerOf = (pod: DesiredPod): string => `${pod.namespace}/${pod.ownerKind}/${pod.ownerName}`;

/** Pods that were placed before keep their node and address while they still fit; new pods are spread. */
export function schedule(
  pods: readonly DesiredPod[],
  nodes: readonly NodeSpec[],
  previous: Placements = { pods: {}, nextPodIP: {} },
  maxPods = Number.POSITIVE_INFINITY,
): Placements {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const pools = new Map(nodes.map((n) => [n.name, new PodAddressPool(n.podCIDR, previous.nextPodIP[n.name])]));
  const load = new Map(nodes.map((n) => [n.name, 0]));
  const ownerLoad = new Map<string, number>();
  const placed: Record<string, PodPlacement> = {};

  const place = (pod: DesiredPod, node: NodeSpec, keptIP?: string): void => {
    const key = objectKey(pod);
    const pool = pools.get(node.name)!;
    const ip = pod.spec.hostNetwork ? node.address : keptIP !== undefined && pool.keep(keptIP) ? keptIP : pool.take();
    if (ip === undefined) {
      // host-local IPAM is out of addresses: the sandbox cannot start, the pod never runs.
      placed[key] = { uid: pod.uid, pending: noPodAddress(node.podCIDR) };
      return;
    }
    placed[key] = { uid: pod.uid, nodeName: node.name, ip };
    load.set(node.name, (load.get(node.name) ?? 0) + 1);
    const owner = `${ownerOf(pod)}@${node.name}`;
    ownerLoad.set(owner, (ownerLoad.get(owner) ?? 0) + 1);
  };

  const full = (node: NodeSpec): boolean => (load.get(node.name) ?? 0) >= maxPods;
  const fresh: DesiredPod[] = [];
  for (const pod of pods) {
    const before = previous.pods[objectKey(pod)];
    const node = before?.nodeName === undefined ? undefined : byName.get(before.nodeName);
    if (before && node && stillBound(pod, node) && !full(node)) place(pod, node, before.ip);
    else fresh.push(pod);
  }

  const rank = (pod: DesiredPod, node: NodeSpec): readonly [number, number] => [ownerLoad.get(`${ownerOf(pod)}@${node.name}`) ?? 0, load.get(node.name) ?? 0];
  for (const pod of fresh) {
    if (boundByName(pod)) {
      const node = byName.get(pod.spec.nodeName!);
      if (node && !full(node)) place(pod, node);
      else placed[objectKey(pod)] = { uid: pod.uid, ...(node ? { pending: outOfPods(maxPods) } : {}) };
      continue;
    }
    let best: { node: NodeSpec; rank: readonly [number, number] } | undefined;
    for (const node of nodes) {
      // A cordoned node takes no new pods; the pods already placed on it stay (above).
      if (node.unschedulable || !eligible(pod, node) || full(node)) continue;
      const r = rank(pod, node);
      if (!best || r[0] < best.rank[0] || (r[0] === best.rank[0] && r[1] < best.rank[1])) best = { node, rank: r };
    }
    if (best) place(pod, best.node);
    else placed[objectKey(pod)] = { uid: pod.uid, pending: unschedulable(nodes.map((n) => verdict(pod, n, full(n)))) };
  }

  const nextPodIP: Record<string, number> = {};
  for (const [name, pool] of pools) nextPodIP[name] = pool.next;
  return { pods: placed, nextPodIP };
}

/** NodeUnschedulable, then NodeAffinity, then NodeResourcesFit; a node is counted once, under its first failing filter. */
function verdict(pod: DesiredPod, node: NodeSpec, isFull: boolean): NodeVerdict {
  if (node.unschedulable) return 'unschedulable';
  if (!eligible(pod, node)) return 'selector';
  return isFull ? 'too-many-pods' : 'fits';
}
