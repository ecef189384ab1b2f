/**
 * The built-in Gateway API controller as part of the cluster: every snapshot carries the
 * route tables and status it computes from the Gateway API objects, against the
 * snapshot's Services (the Gateways' own LoadBalancer Services included) and endpoints.
 */
import { compileGateways } from '../cluster/gateway/index.js';
import type { Snapshot } from '../cluster/snapshot.js';
import type { Manifests } from '../model/types.js';

export function withGatewayConfig(snapshot: Snapshot, manifests: Manifests): Snapshot {
  const objects = manifests.gatewayApi;
  if (!objects) return snapshot;
  const gateway = compileGateways({
    objects,
    namespaces: manifests.namespaces,
    services: snapshot.services,
    endpoints: snapshot.endpoints,
    secrets: manifests.secrets,
    now: snapshot.generatedAt,
  });
  return Object.freeze({ ...snapshot, gateway });
}
