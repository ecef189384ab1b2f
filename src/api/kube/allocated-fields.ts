/**
 * A replaced object keeps what the cluster gave it and the user did not write: its status,
 * and for a Service its clusterIP(s) and nodePorts (the API server keeps them on update).
 */
import type { KubeObject } from '../../cluster/store/index.js';

type Json = Record<string, unknown>;

export function keepAllocated(current: KubeObject | undefined, next: KubeObject): KubeObject {
  if (!current) return next;
  const withStatus = { ...next, ...(current['status'] !== undefined ? { status: current['status'] } : {}) };
  if (next.kind !== 'Service') return withStatus;
  const was = (current['spec'] as Json | undefined) ?? {};
  const spec = { ...((next['spec'] as Json | undefined) ?? {}) };
  const type = spec['type'] ?? 'ClusterIP';
  if (spec['clusterIP'] === undefined && was['clusterIP'] !== undefined && type !== 'ExternalName') {
    spec['clusterIP'] = was['clusterIP'];
    spec['clusterIPs'] = was['clusterIPs'];
  }
  // NodePorts stay for types that have them; a Service that becomes ClusterIP loses them, as on the API server.
  if (Array.isArray(spec['ports']) && (type === 'NodePort' || type === 'LoadBalancer')) {
    const old = Array.isArray(was['ports']) ? (was['ports'] as Json[]) : [];
    spec['ports'] = (spec['ports'] as Json[]).map((p) => {
      if (p['nodePort'] !== undefined) return p;
      const match = old.find((o) => o['port'] === p['port'] && (o['protocol'] ?? 'TCP') === (p['protocol'] ?? 'TCP'));
      return match?.['nodePort'] !== undefined ? { ...p, nodePort: match['nodePort'] } : p;
    });
  } else if (Array.isArray(spec['ports'])) {
    spec['ports'] = (spec['ports'] as Json[]).map(({ nodePort: _n, ...p }) => p);
  }
  return { ...withStatus, spec };
}

/** The API server folds a Secret's write-only stringData into data (base64) on every write. */
export function withStringDataFolded(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || !object['stringData'] || typeof object['stringData'] !== 'object') return object;
  const { stringData, ...rest } = object as KubeObject & { stringData: Record<string, unknown> };
  const encoded = Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')]));
  return { ...rest, data: { ...((object['data'] as Record<string, string> | undefined) ?? {}), ...encoded } } as KubeObject;
}
