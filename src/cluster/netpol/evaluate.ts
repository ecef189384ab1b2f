/**
 * The decision for one connection under NetworkPolicy, as Kubernetes documents it:
 *
 * - a pod no policy selects for a direction is not isolated in that direction: all is allowed;
 * - an isolated pod allows what the union of the rules of the policies selecting it allows
 *   (the order of policies does not matter, and no policy denies);
 * - a connection needs both the egress side of its source and the ingress side of its
 *   destination to allow it;
 * - a rule matches when a peer matches (none given: every peer) and a port matches (none
 *   given: every port); named ports resolve against the destination pod's container ports.
 *
 * Traffic from a node to a pod on that node (kubelet's probes) is allowed, as Azure network
 * policy (and Calico and Cilium) allow host-to-local-pod traffic. Pure: the same table and
 * flow give the same decision, for the data plane, `aks-emu explain` and the tests alike.
 */
import type { NetworkPolicyPort, PolicyType } from '../../model/network-policy.js';
import type { Protocol } from '../../model/types.js';
import { cidrContains, parseCIDR, parseIPv4, type CIDR } from '../../manifests/ip.js';
import type { CompiledPeer, CompiledRule, NetworkPolicyTable, PolicyPod } from './table.js';

export interface Flow {
  /** The source address as the destination pod sees it (after any SNAT). */
  readonly source: string;
  readonly destination: string;
  readonly port: number;
  /** TCP unless said otherwise. */
  readonly protocol?: Protocol;
  /**
   * Where the connection started, if not `source` (a flow kube-proxy masqueraded): the
   * source pod's egress and the node exemption are about it.
   */
  readonly origin?: string;
}

/** One side of the decision (the source's egress or the destination's ingress). */
export type SideDecision =
  /** The address is not a pod, or no policy selects the pod for this direction. */
  | { readonly kind: 'not-isolated'; readonly pod?: string }
  | { readonly kind: 'allowed'; readonly pod: string; readonly policy: string; readonly rule: number }
  | { readonly kind: 'denied'; readonly pod: string; readonly policies: readonly string[] }
  /** A node reaching a pod on itself (kubelet probes). */
  | { readonly kind: 'node-local'; readonly pod: string };

export type FlowDecision =
  | { readonly verdict: 'allow'; readonly policy?: string; readonly reason: string; readonly egress: SideDecision; readonly ingress: SideDecision }
  | {
      readonly verdict: 'drop';
      readonly direction: PolicyType;
      readonly policies: readonly string[];
      readonly reason: string;
      readonly egress: SideDecision;
      readonly ingress: SideDecision;
    };

type Peer = { readonly kind: 'pods'; readonly ips: ReadonlySet<string> } | { readonly kind: 'ipBlock'; readonly cidr?: CIDR; readonly except: readonly CIDR[] };

interface Rule {
  readonly ports: readonly NetworkPolicyPort[];
  readonly anyPeer: boolean;
  readonly peers: readonly Peer[];
}

interface Index {
  readonly policies: readonly { readonly key: string; readonly ingress: readonly Rule[]; readonly egress: readonly Rule[] }[];
}

const indexes = new WeakMap<NetworkPolicyTable, Index>();

function compilePeer(peer: CompiledPeer): Peer {
  if (peer.kind === 'pods') return { kind: 'pods', ips: new Set(peer.ips) };
  // An IPv6 block never matches: every address aks-emu hands out is IPv4.
  const cidr = parseCIDR(peer.cidr);
  return { kind: 'ipBlock', ...(cidr === undefined ? {} : { cidr }), except: peer.except.flatMap((e) => parseCIDR(e) ?? []) };
}

const compileRules = (rules: readonly CompiledRule[]): Rule[] => rules.map((r) => ({ ports: r.ports, anyPeer: r.anyPeer, peers: r.peers.map(compilePeer) }));

/** Sets and parsed CIDRs for a table, made once per table (tables are frozen and replaced whole). */
function indexOf(table: NetworkPolicyTable): Index {
  let index = indexes.get(table);
  if (index === undefined) {
    index = { policies: table.policies.map((p) => ({ key: p.key, ingress: compileRules(p.ingress), egress: compileRules(p.egress) })) };
    indexes.set(table, index);
  }
  return index;
}

function peerMatches(peer: Peer, address: string): boolean {
  if (peer.kind === 'pods') return peer.ips.has(address);
  if (peer.cidr === undefined) return false;
  const ip = parseIPv4(address);
  if (ip === undefined || !cidrContains(peer.cidr, ip)) return false;
  return !peer.except.some((e) => cidrContains(e, ip));
}

function portMatches(ports: readonly NetworkPolicyPort[], port: number, protocol: Protocol, destination: PolicyPod | undefined): boolean {
  if (ports.length === 0) return true;
  return ports.some((p) => {
    if (p.protocol !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      const named = destination?.namedPorts[p.port];
      return named !== undefined && named.port === port && named.protocol === protocol;
    }
    return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
  });
}

/** The first policy and rule of `selecting` that lets `peer` reach `port`, or the denying policies. */
function side(
  index: Index,
  pod: PolicyPod | undefined,
  direction: 'ingress' | 'egress',
  peer: string,
  port: number,
  protocol: Protocol,
  destination: PolicyPod | undefined,
): SideDecision {
  if (pod === undefined) return { kind: 'not-isolated' };
  const selecting = pod[direction];
  if (selecting.length === 0) return { kind: 'not-isolated', pod: pod.key };
  for (const i of selecting) {
    const policy = index.policies[i]!;
    const rules = policy[direction];
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r]!;
      if (!portMatches(rule.ports, port, protocol, destination)) continue;
      if (rule.anyPeer || rule.peers.some((p) => peerMatches(p, peer))) return { kind: 'allowed', pod: pod.key, policy: policy.key, rule: r };
    }
  }
  return { kind: 'denied', pod: pod.key, policies: selecting.map((i) => index.policies[i]!.key) };
}

export function evaluateFlow(table: NetworkPolicyTable | undefined, flow: Flow): FlowDecision {
  const protocol = flow.protocol ?? 'TCP';
  const none: SideDecision = { kind: 'not-isolated' };
  if (table === undefined) return { verdict: 'allow', reason: 'no NetworkPolicy in the cluster', egress: none, ingress: none };
  const index = indexOf(table);
  const origin = flow.origin ?? flow.source;
  const destination = table.pods[flow.destination];
  const what = `${flow.source} to ${flow.destination}:${flow.port}/${protocol}`;
  if (destination !== undefined && destination.nodeAddress === origin) {
    const local: SideDecision = { kind: 'node-local', pod: destination.key };
    return {
      verdict: 'allow',
      reason: `from pod ${destination.key}'s own node: allowed (kubelet probes), as Azure network policy allows it`,
      egress: none,
      ingress: local,
    };
  }
  const egress = side(index, table.pods[origin], 'egress', flow.destination, flow.port, protocol, destination);
  const ingress = side(index, destination, 'ingress', flow.source, flow.port, protocol, destination);
  const denied = egress.kind === 'denied' ? egress : ingress.kind === 'denied' ? ingress : undefined;
  if (denied !== undefined) {
    const direction = denied === egress ? 'Egress' : 'Ingress';
    const reason = `${direction.toLowerCase()} of pod ${denied.pod} is isolated by ${denied.policies.join(', ')}; no rule allows ${what}`;
    return { verdict: 'drop', direction, policies: denied.policies, reason, egress, ingress };
  }
  const parts = [describe('egress', egress), describe('ingress', ingress)];
  const policy = ingress.kind === 'allowed' ? ingress.policy : egress.kind === 'allowed' ? egress.policy : undefined;
  return { verdict: 'allow', ...(policy === undefined ? {} : { policy }), reason: parts.join('; '), egress, ingress };
}

function describe(direction: 'egress' | 'ingress', s: SideDecision): string {
  switch (s.kind) {
    case 'allowed':
      return `${direction} of pod ${s.pod} allowed by ${s.policy} (${direction} rule ${s.rule})`;
    case 'not-isolated':
      return s.pod === undefined ? `${direction}: not a pod, no policy applies` : `${direction} of pod ${s.pod}: no policy selects it`;
    case 'node-local':
      return `${direction} of pod ${s.pod}: from its own node`;
    case 'denied':
      return `${direction} of pod ${s.pod} denied by ${s.policies.join(', ')}`;
  }
}
