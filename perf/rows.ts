/** The rows of the table: aks-emu's paths from the cluster child, and the two anchors. */
import type { Anchor } from './anchors.js';
import { isReachable, type ClusterReady, type Reach, type TargetId, type Unavailable } from './cluster-types.js';
import type { Row } from './measure.js';
import { ANCHOR_IDS, baselineTargetOf, secondBuildOf, type AnchorRowId, type BaselineRowId, type RowId } from './options.js';

type PathOf = Pick<Row, 'layer' | 'path' | 'anchor'>;
const PATHS: Readonly<Record<Exclude<RowId, BaselineRowId>, PathOf>> = {
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

function describe(id: RowId): PathOf {
  const base = baselineTargetOf(id);
  if (base !== undefined)
    return {
      ...PATHS[base],
      path: `${pathOf(base)}, ${secondBuildOf(id) === 'nohooks' ? 'this build, hooks off (AKS_EMU_PERF_HOOKS=off)' : 'baseline build'}`,
    };
  return PATHS[id as Exclude<RowId, BaselineRowId>];
}

export function pathOf(id: RowId): string {
  const base = baselineTargetOf(id);
  if (base !== undefined) return describe(id).path;
  const path = PATHS[id as Exclude<RowId, BaselineRowId>].path;
  return IN_PROCESS.has(id) ? `${path} (in-process pod)` : path;
}

function fromReach(id: RowId, target: Reach | Unavailable, pids: { proxyPid?: number; aksEmuPid?: number } = {}): Row {
  const base = { id, ...describe(id), path: pathOf(id) };
  if (!isReachable(target)) return { ...base, via: '-', unavailable: target.unavailable };
  return {
    ...base,
    via: target.via,
    host: target.host,
    port: target.port,
    ...(target.sourceAddress === undefined ? {} : { sourceAddress: target.sourceAddress }),
    ...(target.hostHeader === undefined ? {} : { hostHeader: target.hostHeader }),
    ...pids,
  };
}

/** The second aks-emu (--baseline's checkout, or this one with the hooks off for --hooks-ab): its process and what it reached. */
export interface BaselineCluster {
  readonly pid: number;
  readonly ready: ClusterReady | Unavailable;
}

export function buildRows(
  ids: readonly RowId[],
  cluster: ClusterReady | Unavailable,
  anchors: ReadonlyMap<AnchorRowId, Anchor | Unavailable>,
  baseline?: BaselineCluster,
): Row[] {
  return ids.map((id) => {
    if ((ANCHOR_IDS as readonly RowId[]).includes(id)) {
      const anchorId = id as AnchorRowId;
      const anchor = anchors.get(anchorId) ?? { unavailable: 'not started' };
      if ('unavailable' in anchor) return fromReach(id, anchor);
      return fromReach(id, { host: anchor.host, port: anchor.port, via: `${anchor.host}:${anchor.port}` }, { proxyPid: anchor.pid });
    }
    const base = baselineTargetOf(id);
    if (base !== undefined) {
      if (!baseline) return fromReach(id, { unavailable: 'no second build (--baseline or --hooks-ab)' });
      if ('unavailable' in baseline.ready) return fromReach(id, baseline.ready);
      return fromReach(id, baseline.ready.targets[base], { aksEmuPid: baseline.pid });
    }
    if ('unavailable' in cluster) return fromReach(id, cluster);
    return fromReach(id, cluster.targets[id as TargetId]);
  });
}
