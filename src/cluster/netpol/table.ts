/**
 * NetworkPolicies compiled against the pods of one snapshot: which policies isolate each
 * pod (per direction), and each rule's peers resolved to pod IPs, so that the data plane
 * only looks up. Plain JSON-serialisable data: the container runtime ships it with the
 * snapshot. Absent from the snapshot when there is no NetworkPolicy at all, so the data
 * plane's hooks cost a single check then.
 */
import type { LabelSelector, NetworkPolicy, NetworkPolicyPort, PolicyType } from '../../model/network-policy.js';
import { NAMESPACE_NAME_LABEL } from '../../model/network-policy.js';
import { objectKey, type Namespace, type Protocol } from '../../model/types.js';
import type { NodeInfo, PodInfo } from '../snapshot.js';
import { KUBE_DNS } from './cluster-dns.js';
import { labelSelectorMatches } from './selectors.js';

/** A peer of a rule: the pods it selected when the snapshot was built, or an address block. */
export type CompiledPeer =
  { readonly kind: 'pods'; readonly ips: readonly string[] } | { readonly kind: 'ipBlock'; readonly cidr: string; readonly except: readonly string[] };

export interface CompiledRule {
  /** Empty: every port. Named ports resolve against the destination pod when a flow is decided. */
  readonly ports: readonly NetworkPolicyPort[];
  /** `from`/`to` was absent or empty: every source or destination. */
  readonly anyPeer: boolean;
  readonly peers: readonly CompiledPeer[];
}

export interface CompiledPolicy {
  /** `namespace/name`. */
  readonly key: string;
  readonly policyTypes: readonly PolicyType[];
  readonly ingress: readonly CompiledRule[];
  readonly egress: readonly CompiledRule[];
}

/** What a decision needs to know about a pod, by its IP. */
export interface PolicyPod {
  /** `namespace/name`. */
  readonly key: string;
  /** The address of the node the pod runs on (its kubelet's probes come from there). */
  readonly nodeAddress: string;
  /** Indices into `policies` of those selecting this pod with policyType Ingress. */
  readonly ingress: readonly number[];
  /** ... with policyType Egress. */
  readonly egress: readonly number[];
  /** The pod's named container ports: name → port and protocol. */
  readonly namedPorts: Readonly<Record<string, { readonly port: number; readonly protocol: Protocol }>>;
}

export interface NetworkPolicyTable {
  readonly policies: readonly CompiledPolicy[];
  /** Every running pod with an IP, by IP. */
  readonly pods: Readonly<Record<string, PolicyPod>>;
  /** The nodes' addresses: host traffic, which a pod's own listener leaves to the data plane. */
  readonly nodeAddresses: readonly string[];
  /** The cluster DNS address, also in `pods` as CoreDNS's stand-in (cluster-dns.ts), when the input gave it. */
  readonly clusterDns?: string;
}

export interface NetworkPolicyInput {
  readonly policies: readonly NetworkPolicy[];
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly PodInfo[];
  readonly nodes: readonly NodeInfo[];
  /**
   * The cluster DNS address (the service CIDR's .10): a peer with kube-dns's namespace,
   * labels and named ports, so that rules selecting CoreDNS's pods allow lookups.
   */
  readonly clusterDns?: string;
}

/** A namespace's labels as selectors see them: its own plus `kubernetes.io/metadata.name`. */
export function namespaceLabelsOf(namespaces: ReadonlyMap<string, Namespace>, name: string): Record<string, string> {
  return { ...(namespaces.get(name)?.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

const EVERYTHING: LabelSelector = { matchLabels: {}, matchExpressions: [] };

/** The table, or undefined when there is no policy (nothing is isolated). */
export function compileNetworkPolicies(input: NetworkPolicyInput): NetworkPolicyTable | undefined {
  if (input.policies.length === 0) return undefined;
  const namespaces = new Map(input.namespaces.map((n) => [n.metadata.name, n]));
  const nsLabels = new Map<string, Record<string, string>>();
  const labelsOfNamespace = (name: string): Record<string, string> => {
    let labels = nsLabels.get(name);
    if (labels === undefined) nsLabels.set(name, (labels = namespaceLabelsOf(namespaces, name)));
    return labels;
  };
  const running = input.pods.filter((p) => p.ip !== '' && p.phase === 'Running');
  const dns = input.clusterDns;
  const pods: readonly Pick<PodInfo, 'namespace' | 'labels' | 'ip'>[] =
    dns === undefined ? running : [...running, { namespace: KUBE_DNS.namespace, labels: KUBE_DNS.labels, ip: dns }];
  const policies = [...input.policies].sort((a, b) => (objectKey(a.metadata) < objectKey(b.metadata) ? -1 : 1));

  const peerIPs = (namespace: string, podSelector: LabelSelector | undefined, namespaceSelector: LabelSelector | undefined): string[] =>
    pods
      .filter((p) => (namespaceSelector === undefined ? p.namespace === namespace : labelSelectorMatches(namespaceSelector, labelsOfNamespace(p.namespace))))
      .filter((p) => labelSelectorMatches(podSelector ?? EVERYTHING, p.labels))
      .map((p) => p.ip);

  const compiled: CompiledPolicy[] = policies.map((policy) => {
    const namespace = policy.metadata.namespace;
    const rules = (list: NetworkPolicy['spec']['ingress']): CompiledRule[] =>
      list.map((rule) => ({
        ports: rule.ports,
        anyPeer: rule.peers.length === 0,
        peers: rule.peers.map((peer): CompiledPeer =>
          peer.kind === 'ipBlock'
            ? { kind: 'ipBlock', cidr: peer.ipBlock.cidr, except: peer.ipBlock.except }
            : { kind: 'pods', ips: peerIPs(namespace, peer.podSelector, peer.namespaceSelector) },
        ),
      }));
    return { key: objectKey(policy.metadata), policyTypes: policy.spec.policyTypes, ingress: rules(policy.spec.ingress), egress: rules(policy.spec.egress) };
  });

  const nodeAddress = new Map(input.nodes.map((n) => [n.name, n.address]));
  const table: Record<string, PolicyPod> = {};
  for (const pod of running) {
    const ingress: number[] = [];
    const egress: number[] = [];
    policies.forEach((policy, i) => {
      if (policy.metadata.namespace !== pod.namespace || !labelSelectorMatches(policy.spec.podSelector, pod.labels)) return;
      if (policy.spec.policyTypes.includes('Ingress')) ingress.push(i);
      if (policy.spec.policyTypes.includes('Egress')) egress.push(i);
    });
    const namedPorts: Record<string, { port: number; protocol: Protocol }> = {};
    for (const c of pod.containers) for (const p of c.ports) if (p.name) namedPorts[p.name] ??= { port: p.containerPort, protocol: p.protocol };
    table[pod.ip] = { key: `${pod.namespace}/${pod.name}`, nodeAddress: nodeAddress.get(pod.nodeName) ?? '', ingress, egress, namedPorts };
  }
  // CoreDNS's stand-in is a peer only: no policy isolates it (the nodes' DNS server enforces nothing).
  if (dns !== undefined && table[dns] === undefined)
    table[dns] = { key: `${KUBE_DNS.namespace}/${KUBE_DNS.name}`, nodeAddress: '', ingress: [], egress: [], namedPorts: KUBE_DNS.namedPorts };
  return { policies: compiled, pods: table, nodeAddresses: input.nodes.map((n) => n.address), ...(dns === undefined ? {} : { clusterDns: dns }) };
}
