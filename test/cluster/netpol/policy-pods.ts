import type { NodeInfo, PodInfo } from '../../../src/cluster/snapshot.js';

/** Two nodes at `prefix`.4 and .5 (127.224.0 in the embedded runtime, 10.224.0 in the container runtime). */
export function twoNodes(prefix: string): NodeInfo[] {
  return [
    { name: 'n0', address: `${prefix}.4` },
    { name: 'n1', address: `${prefix}.5` },
  ] as NodeInfo[];
}

/** A Running pod with just what the policy compiler reads. */
export function policyPod(
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string>,
  ports: { name?: string; containerPort: number }[] = [],
  node = 'n0',
): PodInfo {
  return {
    namespace,
    name,
    ip,
    labels,
    nodeName: node,
    phase: 'Running',
    containers: [{ name: 'c', image: 'x', ports: ports.map((p) => ({ protocol: 'TCP', ...p })) }],
  } as unknown as PodInfo;
}
