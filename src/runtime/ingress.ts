/**
 * The built-in ingress-nginx controller as part of the cluster: its objects join the
 * user's manifests, and every snapshot carries the controller's compiled configuration.
 */
import type { Snapshot } from '../cluster/snapshot.js';
import type { ClusterConfig } from '../config/types.js';
import { compileIngress, ingressControllerObjects } from '../cluster/ingress/index.js';
import type { Manifests } from '../model/types.js';

/** The user's manifests plus the controller's Namespace, Deployment, Service and IngressClasses. */
export function withIngressController(manifests: Manifests, config: ClusterConfig): Manifests {
  if (!config.ingress.enabled) return manifests;
  const controller = ingressControllerObjects(config.ingress.replicas);
  // A user's own IngressClass of the same name (e.g. from the ingress-nginx chart) wins.
  const userClasses = new Set(manifests.ingressClasses.map((c) => c.metadata.name));
  return {
    ...manifests,
    namespaces: [...controller.namespaces, ...manifests.namespaces],
    services: [...controller.services, ...manifests.services],
    workloads: [...controller.workloads, ...manifests.workloads],
    ingressClasses: [...controller.ingressClasses.filter((c) => !userClasses.has(c.metadata.name)), ...manifests.ingressClasses],
  };
}

/** The snapshot with the ingress configuration compiled against its Services and endpoints. */
export function withIngressConfig(snapshot: Snapshot, manifests: Manifests, config: ClusterConfig): Snapshot {
  if (!config.ingress.enabled) return snapshot;
  const compiled = compileIngress({
    ingresses: manifests.ingresses,
    ingressClasses: manifests.ingressClasses,
    services: snapshot.services,
    endpoints: snapshot.endpoints,
    secrets: manifests.secrets,
  });
  const shadowed = healthzShadowed(compiled.config.servers);
  const ingress = shadowed ? { ...compiled, notices: [...compiled.notices, shadowed] } : compiled;
  return Object.freeze({ ...snapshot, ingress });
}

/**
 * A host-less Ingress with use-regex or rewrite-target puts the default server in regex
 * mode; its catch-all becomes `~* ^/`, which takes /healthz from the plain location the
 * Azure LB's HTTP probes use, so every node of the controller's frontend goes down (as on
 * AKS: kubernetes/ingress-nginx#8852). Say so once, naming the Ingress and the way out.
 */
function healthzShadowed(servers: readonly { hostname: string; regexBy: readonly string[] }[]): string | undefined {
  const server = servers.find((s) => s.hostname === '_' && s.regexBy.length > 0);
  if (!server) return undefined;
  return (
    `Ingress ${server.regexBy.join(', ')} puts the default server (rules without a host) in regex mode: its catch-all ^/ ` +
    'takes /healthz, so the Azure LB health probes of ingress-nginx-controller fail and its frontend gets no healthy node ' +
    '(as on AKS). Give the Ingress a host, or check with: aks-emu explain ingress --host any --path /healthz'
  );
}
