import type { Snapshot } from '../cluster/snapshot.js';
import type { Manifests } from '../model/types.js';
import type { CatalogService, TargetCatalog } from './validate.js';

/** What faults may name in a running cluster: its nodes, pods, Services, Ingresses and HTTPRoutes. */
export function targetCatalog(snapshot: Snapshot, manifests: Manifests): TargetCatalog {
  const key = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  return {
    nodes: new Set(snapshot.nodes.map((n) => n.name)),
    pods: new Set(snapshot.pods.map((p) => `${p.namespace}/${p.name}`)),
    services: new Map<string, CatalogService>(
      snapshot.services.map((s) => [
        `${s.namespace}/${s.name}`,
        {
          ports: s.ports.map((p) => ({ name: p.name, port: p.port, ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }) })),
          frontend: s.type === 'LoadBalancer' && s.loadBalancer?.ip !== undefined,
        },
      ]),
    ),
    ingresses: new Map(manifests.ingresses.map((i) => [key(i), i.spec.rules.flatMap((r) => r.paths.map((p) => p.path))])),
    httpRoutes: new Map(
      (manifests.gatewayApi?.httpRoutes ?? []).map((r) => [
        key(r),
        r.rules.flatMap((rule) => (rule.matches.length === 0 ? ['/'] : rule.matches.map((m) => m.path.value))),
      ]),
    ),
  };
}
