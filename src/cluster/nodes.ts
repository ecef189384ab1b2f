/**
 * The emulated nodes: what AKS gives a node of the default pool, addressed from the
 * configured ranges. The first node gets the node subnet's .4 (Azure keeps .0-.3 of
 * every subnet; AKS's first node is 10.224.0.4) and the pod CIDR's first /24 (kubenet
 * hands each node a /24, node-cidr-mask-size 24).
 */
import type { ClusterConfig } from '../config/types.js';
import { formatIPv4, parseCIDR } from '../manifests/ip.js';
import type { NodeInfo } from './snapshot.js';

/** What the scheduler needs to know about a node; independent of runtime facts. */
export interface NodeSpec {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly podCIDR: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** spec.unschedulable (`kubectl cordon`): the scheduler places no new pod here. */
  readonly unschedulable: boolean;
}

/** What users change on a Node through the API: its whole label and annotation sets, spec.unschedulable. */
export interface NodeMeta {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly unschedulable: boolean;
}

/** Node name → its metadata as last written; a node without an entry has AKS's labels and is schedulable. */
export type NodeMetas = Readonly<Record<string, NodeMeta>>;

export interface NodeFacts {
  readonly stoppedNodes: readonly string[];
  readonly notReadyNodes: readonly string[];
  readonly nodeMeta?: NodeMetas;
}

/** The label cloud-provider-azure honours to keep a node out of the LB backend pools. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** `kubernetes.azure.com/managed: "false"` marks a node Azure does not manage (on-prem): excluded as well. */
const MANAGED_BY_AZURE_LABEL = 'kubernetes.azure.com/managed';

/** Whether cloud-provider-azure leaves the node out of the LB backend pools (the label's value does not matter). */
export function excludedFromLoadBalancers(labels: Readonly<Record<string, string>>): boolean {
  return EXCLUDE_FROM_LB_LABEL in labels || labels[MANAGED_BY_AZURE_LABEL]?.toLowerCase() === 'false';
}

/** The metadata a node starts with. */
export function defaultNodeMeta(name: string): NodeMeta {
  return { labels: nodeLabels(name), annotations: {}, unschedulable: false };
}

/** Azure reserves the first four addresses of a subnet (network, gateway, two for DNS). */
export const AZURE_RESERVED_HOSTS = 4;
const POD_CIDR_BITS = 24;

/** AKS names VMSS nodes `aks-<pool>-<digits>-vmss<id>`; other names fall back to the default pool. */
function agentPool(name: string): string {
  return /^aks-([a-z0-9]+)-\d+-vmss/.exec(name)?.[1] ?? 'nodepool1';
}

/** The labels AKS puts on a Linux node of a non-zonal system pool (used by nodeSelector). */
export function nodeLabels(name: string): Record<string, string> {
  const pool = agentPool(name);
  return {
    agentpool: pool,
    'kubernetes.azure.com/agentpool': pool,
    'kubernetes.azure.com/mode': 'system',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/role': 'agent',
    'node.kubernetes.io/instance-type': 'Standard_DS2_v2',
    // Nodes of a pool without availability zones carry their fault domain as the zone.
    'topology.kubernetes.io/zone': '0',
  };
}

export function nodeSpecs(config: ClusterConfig, meta: NodeMetas = {}): NodeSpec[] {
  const subnet = parseCIDR(config.addresses.nodeSubnet);
  const pods = parseCIDR(config.addresses.podCIDR);
  return config.nodes.map((name, index) => ({
    name,
    index,
    address: subnet ? formatIPv4(subnet.base + AZURE_RESERVED_HOSTS + index) : '',
    podCIDR: pods ? `${formatIPv4(pods.base + index * 2 ** (32 - POD_CIDR_BITS))}/${POD_CIDR_BITS}` : '',
    ...(meta[name] ?? defaultNodeMeta(name)),
  }));
}

export function nodeInfos(config: ClusterConfig, facts: NodeFacts): NodeInfo[] {
  const stopped = new Set(facts.stoppedNodes);
  const notReady = new Set(facts.notReadyNodes);
  return nodeSpecs(config, facts.nodeMeta).map((node) => ({
    ...node,
    running: !stopped.has(node.name),
    ready: !notReady.has(node.name),
  }));
}
