/**
 * The aks-emu side of `npm run soak`, in a process of its own so that the RSS and open
 * files read from /proc are the cluster's alone. The parent drives churn over IPC.
 */
import { startCluster } from '../src/index.js';
import { webManifests } from '../test/helpers/web-manifests.js';
import { announce, exitWithParent, serveParent } from './ipc.js';

export const SOAK_NODES = 4;

export function soakManifests(replicas: number): string {
  return webManifests({ replicas, ports: '[{ name: http, port: 80, targetPort: 8080 }, { name: tcp-echo, port: 9000, targetPort: 9000 }]' });
}

export interface SoakReady {
  readonly frontend: string;
  readonly nodes: readonly string[];
}

if (process.send !== undefined) {
  const cluster = await startCluster({
    manifests: soakManifests(4),
    nodes: SOAK_NODES,
    timeScale: Number(process.env.SOAK_TIME_SCALE ?? 0.05),
    seed: 11,
    admin: false,
    config: { ingress: { enabled: false } },
  });
  serveParent({
    stopNode: (p: { name: string }) => cluster.stopNode(p.name),
    startNode: (p: { name: string }) => cluster.startNode(p.name),
    pods: () => cluster.pods({ app: 'web' }).map((pod) => pod.name),
    setPodReady: (p: { name: string; ready: boolean | null }) => cluster.setPodReady(p.name, p.ready),
    scale: (p: { replicas: number }) => cluster.apply({ manifests: soakManifests(p.replicas) }),
    activeConnections: () => cluster.stats().activeConnections,
    listenerErrors: () => cluster.stats().listenerErrors,
    stop: () => cluster.stop(),
  });
  exitWithParent(() => cluster.stop());
  announce('ready', { frontend: cluster.service('web').loadBalancerIP!, nodes: cluster.nodes.map((n) => n.name) } satisfies SoakReady);
}
