/** The rows of the table: aks-emu's paths from the cluster child, and the two anchors. */
import type { Anchor } from './anchors.js';
import { isReachable, type ClusterReady, type Reach, type TargetId, type Unavailable } from './cluster-types.js';
import type { Row } from './measure.js';
import { ANCHOR_IDS, type AnchorRowId, type RowId } from './options.js';

const PATHS: Readonly<Record<RowId, Pick<Row, 'layer' | 'path' | 'anchor'>>> = {
  direct: { layer: 'limit', path: 'straight to the pod' },
  clusterip: { layer: 'L4', path: 'ClusterIP VIP → kube-proxy → pod', anchor: 'haproxy' },
  nodeport: { layer: 'L4', path: 'NodePort → kube-proxy → pod', anchor: 'haproxy' },
  lb: { layer: 'L4', path: 'LB frontend → node → pod', anchor: 'haproxy' },
  ingress: { layer: 'L7', path: 'LB frontend → node → ingress pod → pod', anchor: 'nginx' },
  gateway: { layer: 'L7', path: 'LB frontend → node → gateway pod (HTTPRoute) → pod', anchor: 'nginx' },
  haproxy: { layer: 'L4', path: 'haproxy mode tcp → pod' },
  nginx: { layer: 'L7', path: 'nginx proxy_pass, upstream keep-alive → pod' },
  'process-direct': { layer: 'limit', path: 'straight to a process pod (its own PORT)' },
  'process-lb': { layer: 'L4', path: 'LB frontend → node → pod IP → process pod', anchor: 'haproxy-process' },
  'haproxy-process': { layer: 'L4', path: 'haproxy mode tcp → process pod' },
  'direct-external': { layer: 'limit', path: 'straight to the external backend process' },
  'lb-external': { layer: 'L4', path: 'LB frontend → node → kube-proxy → external process (EndpointSlice)', anchor: 'haproxy-external' },
  'nodeport-external': { layer: 'L4', path: 'NodePort → kube-proxy → external process (EndpointSlice)', anchor: 'haproxy-external' },
  'clusterip-external': { layer: 'L4', path: 'ClusterIP VIP → kube-proxy → external process (EndpointSlice)', anchor: 'haproxy-external' },
  'ingress-external': { layer: 'L7', path: 'LB frontend → node → ingress pod → external process', anchor: 'nginx-external' },
  'haproxy-external': { layer: 'L4', path: 'haproxy mode tcp → external process' },
  'nginx-external': { layer: 'L7', path: 'nginx proxy_pass, upstream keep-alive → external process' },
};

/** In-process rows end at the echo pod in the aks-emu process; the table says so. */
const IN_PROCESS: ReadonlySet<RowId> = new Set(['direct', 'clusterip', 'nodeport', 'lb', 'ingress', 'gateway', 'haproxy', 'nginx']);

export function pathOf(id: RowId): string {
  const path = PATHS[id].path;
  return IN_PROCESS.has(id) ? `${path} (in-process pod)` : path;
}

function fromReach(id: RowId, target: Reach | Unavailable, proxyPid?: number): Row {
  const base = { id, ...PATHS[id], path: pathOf(id) };
  if (!isReachable(target)) return { ...base, via: '-', unavailable: target.unavailable };
  return {
    ...base,
    via: target.via,
    host: target.host,
    port: target.port,
    ...(target.sourceAddress === undefined ? {} : { sourceAddress: target.sourceAddress }),
    ...(target.hostHeader === undefined ? {} : { hostHeader: target.hostHeader }),
    ...(proxyPid === undefined ? {} : { proxyPid }),
  };
}

export function buildRows(ids: readonly RowId[], cluster: ClusterReady | Unavailable, anchors: ReadonlyMap<AnchorRowId, Anchor | Unavailable>): Row[] {
  return ids.map((id) => {
    if ((ANCHOR_IDS as readonly RowId[]).includes(id)) {
      const anchorId = id as AnchorRowId;
      const anchor = anchors.get(anchorId) ?? { unavailable: 'not started' };
      if ('unavailable' in anchor) return fromReach(id, anchor);
      return fromReach(id, { host: anchor.host, port: anchor.port, via: `${anchor.host}:${anchor.port}` }, anchor.pid);
    }
    if ('unavailable' in cluster) return fromReach(id, cluster);
    return fromReach(id, cluster.targets[id as TargetId]);
  });
}
