/**
 * The built-in ingress-nginx controller as part of the cluster: its objects, rendered from
 * aks-emu.yaml `ingress` as the Helm chart would, join the user's manifests (a user's own
 * controller Service takes the built-in one's place), its ConfigMap is read, and every
 * snapshot carries the controller's compiled configuration.
 */
import type { Snapshot } from '../cluster/snapshot.js';
import type { ClusterConfig } from '../config/types.js';
import { compileIngress, ingressControllerObjects } from '../cluster/ingress/index.js';
import { findControllerConfigMap, readControllerConfigMap, type ConfigMapRead } from '../cluster/ingress/controller-configmap.js';
import { mergeControllerObjects, type ControllerMerge } from '../cluster/ingress/controller-takeover.js';
import { healthzProbeNotices } from '../cluster/ingress/healthz-probe.js';
import { selectsControllerPods } from '../cluster/ingress/controller-takeover.js';
import type { ControllerChart } from '../cluster/ingress/controller-manifests.js';
import type { FieldError } from '../errors/index.js';
import type { Manifests } from '../model/types.js';

/** The user's manifests plus the controller's Namespace, Deployment, Service, ConfigMap and IngressClasses, and what conflicts. */
export function mergeIngressController(manifests: Manifests, config: ClusterConfig): ControllerMerge {
  if (!config.ingress.enabled) return { manifests, errors: [], classes: [] };
  return mergeControllerObjects(manifests, ingressControllerObjects(config.ingress));
}

/** The user's manifests plus the controller's objects (errors: see mergeIngressController). */
export function withIngressController(manifests: Manifests, config: ClusterConfig): Manifests {
  return mergeIngressController(manifests, config).manifests;
}

/** The controller ConfigMap of the effective manifests, read. */
export function controllerConfigMap(effective: Manifests, config: ClusterConfig): ConfigMapRead {
  const { chart } = ingressControllerObjects(config.ingress);
  return readControllerConfigMap(findControllerConfigMap(effective.configMaps, chart));
}

/** Errors of the controller's values, its ConfigMap and the conflicts with the user's objects. */
export function ingressControllerErrors(merge: ControllerMerge, config: ClusterConfig): FieldError[] {
  if (!config.ingress.enabled) return [];
  return [...merge.errors, ...controllerConfigMap(merge.manifests, config).errors];
}

/** The snapshot with the ingress configuration compiled against its Services and endpoints. */
export function withIngressConfig(snapshot: Snapshot, manifests: Manifests, config: ClusterConfig): Snapshot {
  if (!config.ingress.enabled) return snapshot;
  const { chart } = ingressControllerObjects(config.ingress);
  const read = controllerConfigMap(manifests, config);
  const compiled = compileIngress({
    ingresses: manifests.ingresses,
    ingressClasses: manifests.ingressClasses,
    services: snapshot.services,
    endpoints: snapshot.endpoints,
    secrets: manifests.secrets,
    controllerClasses: chart.classes,
    locationDefaults: read.settings,
    controller: read.settings.traffic,
  });
  const probes = healthzProbeNotices(snapshot, compiled.config, chart);
  const publishService = publishedService(snapshot, chart);
  const ingress = { ...compiled, notices: [...compiled.notices, ...read.notices, ...probes], ...(publishService ? { publishService } : {}) };
  return Object.freeze({ ...snapshot, ingress });
}

/** The chart's `--publish-service`: the controller Service by its name, else a LoadBalancer Service in its place. */
function publishedService(snapshot: Snapshot, chart: ControllerChart): string | undefined {
  const own = snapshot.services.find((s) => s.namespace === chart.namespace && s.name === chart.name);
  const fronting =
    own ?? snapshot.services.find((s) => s.namespace === chart.namespace && s.type === 'LoadBalancer' && selectsControllerPods(s.selector, chart));
  return fronting && `${fronting.namespace}/${fronting.name}`;
}
