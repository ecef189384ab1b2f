import type { PodInfo } from '../../src/cluster/snapshot.js';
import type { Container, ContainerPort, ProbeSpec } from '../../src/model/types.js';

export function container(name: string, ports: readonly Partial<ContainerPort>[], readinessProbe?: Partial<ProbeSpec>): Container {
  return {
    name,
    image: 'aks-emu/echo',
    ports: ports.map((p) => ({ protocol: 'TCP', containerPort: 0, ...p })),
    readinessProbe: readinessProbe && {
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      ...readinessProbe,
    },
  };
}

export function pod(name: string, ip: string, containers: readonly Container[], extra: Partial<PodInfo> = {}): PodInfo {
  return {
    namespace: 'shop',
    name,
    uid: `uid-${name}`,
    nodeName: 'aks-nodepool1-0',
    ip,
    labels: { app: name },
    annotations: {},
    ownerKind: 'Pod',
    ownerName: name,
    containers,
    phase: 'Running',
    ready: false,
    runtime: { kind: 'echo' },
    source: { file: '<inline>', doc: 1 },
    ...extra,
  };
}
