/**
 * The built-in controller's objects joined with the user's manifests, the way a cluster
 * ends up after `helm install` plus the user's own `kubectl apply`:
 *
 * - a user Service that is one of the controller's Services (same namespace and name) and
 *   selects the controller's pods, or a LoadBalancer Service in the controller's namespace
 *   whose selector picks the controller's pods (the AKS tutorial's own Service, an internal
 *   one beside a public one), takes the place of the chart's Services: the user then
 *   manages the controller's Services, with one UID and one set of LB rules each;
 * - a user ConfigMap with the controller ConfigMap's name is applied over the chart's
 *   (kubectl apply patches the keys it names and keeps the others);
 * - a user Namespace or IngressClass of the same name is the one kept;
 * - a genuine conflict, a Service or Deployment with the controller's name that is not the
 *   controller's, is an error on the user's object in Helm's words.
 */
import type { FieldError } from '../../errors/index.js';
import { objectKey, type ConfigMap, type Manifests } from '../../model/types.js';
import type { ClusterConfig } from '../../config/types.js';
import { ingressControllerObjects, type ControllerChart, type ControllerObjects } from './controller-manifests.js';

export interface ControllerMerge {
  readonly manifests: Manifests;
  readonly errors: readonly FieldError[];
  /** IngressClass names the controller serves. */
  readonly classes: readonly string[];
}

/** A non-empty selector whose every label the controller's pods carry. */
export function selectsControllerPods(selector: Readonly<Record<string, string>> | undefined, chart: ControllerChart): boolean {
  if (!selector) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => chart.podLabels[k] === v);
}

/** A LoadBalancer Service in front of the built-in controller's pods (the chart's or the user's own). */
export function isControllerService(
  svc: { readonly namespace: string; readonly type: string; readonly selector?: Readonly<Record<string, string>> },
  config: ClusterConfig,
): boolean {
  if (!config.ingress.enabled) return false;
  const { chart } = ingressControllerObjects(config.ingress);
  return svc.namespace === chart.namespace && svc.type === 'LoadBalancer' && selectsControllerPods(svc.selector, chart);
}

function labelList(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function helmRefusal(kind: string, name: string, namespace: string): string {
  return `Helm would refuse the install ("rendered manifests contain a resource that already exists. Unable to continue with install: ${kind} "${name}" in namespace "${namespace}" exists and cannot be imported into the current release")`;
}

export function mergeControllerObjects(manifests: Manifests, controller: ControllerObjects): ControllerMerge {
  const { chart } = controller;
  const errors: FieldError[] = [...controller.errors];
  const controllerKey = `${chart.namespace}/${chart.name}`;
  const builtInKeys = new Set(controller.services.map((s) => objectKey(s.metadata)));
  let replaced = false;
  for (const svc of manifests.services) {
    if (svc.metadata.namespace !== chart.namespace) continue;
    const selects = selectsControllerPods(svc.spec.selector, chart);
    if (builtInKeys.has(objectKey(svc.metadata))) {
      if (selects) replaced = true;
      else
        errors.push({
          source: svc.source,
          kind: 'Service',
          name: svc.metadata.name,
          namespace: svc.metadata.namespace,
          field: 'spec.selector',
          type: 'Invalid',
          value: svc.spec.selector ?? null,
          detail:
            `this is the built-in ingress-nginx controller's Service name (aks-emu.yaml ingress), but the selector does not select the controller's pods (${labelList(chart.podLabels)}); ` +
            `${helmRefusal('Service', svc.metadata.name, svc.metadata.namespace)}. Select the controller's pods to use this Service in place of the built-in one, rename it, or set ingress.enabled: false`,
        });
    } else if (selects && svc.spec.type === 'LoadBalancer') replaced = true;
  }
  for (const w of manifests.workloads) {
    if (objectKey(w.metadata) !== controllerKey || w.kind !== 'Deployment') continue;
    errors.push({
      source: w.source,
      kind: w.kind,
      name: w.metadata.name,
      namespace: w.metadata.namespace,
      field: 'metadata.name',
      type: 'Invalid',
      value: w.metadata.name,
      detail:
        `is the built-in ingress-nginx controller's Deployment (aks-emu.yaml ingress); ${helmRefusal('Deployment', w.metadata.name, w.metadata.namespace)}. ` +
        'Set ingress.enabled: false to run your own, or give the built-in one another name (ingress.releaseName, ingress.values.fullnameOverride)',
    });
  }
  const builtInServices = replaced ? [] : controller.services;
  const userNamespaces = new Set(manifests.namespaces.map((n) => n.metadata.name));
  const userClasses = new Set(manifests.ingressClasses.map((c) => c.metadata.name));
  const configMaps = mergeConfigMaps(manifests.configMaps ?? [], controller.configMaps);
  const services = [...builtInServices, ...manifests.services];
  return {
    manifests: {
      ...manifests,
      namespaces: [...controller.namespaces.filter((n) => !userNamespaces.has(n.metadata.name)), ...manifests.namespaces],
      services,
      workloads: [...controller.workloads, ...manifests.workloads],
      configMaps,
      ingressClasses: [...controller.ingressClasses.filter((c) => !userClasses.has(c.metadata.name)), ...manifests.ingressClasses],
    },
    errors,
    classes: chart.classes,
  };
}

/** The user's controller ConfigMap patches the chart's: its keys win, the chart's other keys stay. */
function mergeConfigMaps(user: readonly ConfigMap[], builtIn: readonly ConfigMap[]): ConfigMap[] {
  const out = [...user];
  for (const cm of builtIn) {
    const i = out.findIndex((u) => objectKey(u.metadata) === objectKey(cm.metadata));
    const mine = out[i];
    if (mine) out[i] = { ...mine, data: { ...cm.data, ...mine.data } };
    else out.unshift(cm);
  }
  return out;
}
