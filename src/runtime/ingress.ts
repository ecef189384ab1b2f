/**
 * The built-in ingress-nginx controller as part of the cluster: its objects join the
 * user's manifests, and every snapshot carries the controller's compiled configuration.
 */
import type { Snapshot } from '../cluster/snapshot.js';
import type { ClusterConfig } from '../config/types.js';
import { compileIngress, ingressControllerObjects } from '../dataplane/ingress/index.js';
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
  const ingress = compileIngress({
    ingresses: manifests.ingresses,
    ingressClasses: manifests.ingressClasses,
    services: snapshot.services,
    endpoints: snapshot.endpoints,
    secrets: manifests.secrets,
  });
  return Object.freeze({ ...snapshot, ingress });
}
