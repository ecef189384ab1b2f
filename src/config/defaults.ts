import { DEFAULT_MAX_FILE_BYTES } from '../manifests/limits.js';
import type { AddressRanges, ClusterConfig } from './types.js';

/** AKS's default max pods per node with kubenet (Azure CNI Overlay: 250); kubelet's own default is 110 too. */
export const AKS_KUBENET_MAX_PODS = 110;
/** The range AKS accepts for --max-pods. */
export const MAX_PODS_RANGE = { min: 10, max: 250 } as const;

/** AKS names VMSS nodes `aks-<pool>-<8 digits>-vmss<6 base-36 digits>`. */
export function aksNodeNames(count: number, pool = 'nodepool1', id = '12345678'): string[] {
  return Array.from({ length: count }, (_, i) => `aks-${pool}-${id}-vmss${i.toString(36).padStart(6, '0')}`);
}

/** Embedded runtime: AKS's ranges moved into 127.0.0.0/8 so the host can reach them. */
export const EMBEDDED_ADDRESSES: AddressRanges = {
  nodeSubnet: '127.224.0.0/16',
  podCIDR: '127.244.0.0/16',
  serviceCIDR: '127.10.0.0/16',
  publicFrontends: '127.20.0.0/16',
};

/** Container runtime: AKS's own ranges on Docker networks. */
export const AKS_ADDRESSES: AddressRanges = {
  nodeSubnet: '10.224.0.0/16',
  podCIDR: '10.244.0.0/16',
  serviceCIDR: '10.0.0.0/16',
  publicFrontends: '172.30.0.0/16',
};

export function defaultConfig(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    nodes: aksNodeNames(3),
    addresses: EMBEDDED_ADDRESSES,
    distribution: 'round-robin',
    endpointSelection: 'round-robin',
    timeScale: 1,
    maxFrontendsPerLoadBalancer: 600,
    maxRulesPerLoadBalancer: 1500,
    maxManifestFileBytes: DEFAULT_MAX_FILE_BYTES,
    maxManifestTotalBytes: 4 * DEFAULT_MAX_FILE_BYTES,
    maxPods: AKS_KUBENET_MAX_PODS,
    nodeMonitorGracePeriodSeconds: 40,
    admin: { host: '127.0.0.1', port: 7070 },
    ingress: { enabled: true, replicas: 2 },
    ...overrides,
  };
}
