/**
 * The built-in controller's own objects, rendered as the ingress-nginx Helm chart renders
 * them from its values (charts/ingress-nginx/templates: _helpers.tpl for the names,
 * controller-deployment.yaml, controller-service.yaml, controller-configmap.yaml), plus the
 * IngressClass AKS app routing names (`webapprouting.kubernetes.azure.com`).
 *
 * With no values: namespace ingress-nginx, Deployment and LoadBalancer Service
 * `ingress-nginx-controller`, ConfigMap `ingress-nginx-controller`, IngressClass `nginx`.
 * externalTrafficPolicy is unset, so Cluster (the chart's default; AKS's ingress guide only
 * offers Local as an opt-in to keep client IPs), and the controller sees the node's address,
 * not the client's, exactly as on a default install. The ports carry appProtocol http/https
 * (chart default `controller.service.appProtocol: true`), which makes cloud-provider-azure
 * probe over HTTP; the Service therefore carries the probe path /healthz AKS's guide sets,
 * which the controller's default server answers with 200.
 *
 * The rendered objects go through the manifests layer like the user's own files, so a bad
 * value (an externalTrafficPolicy of "Locale", a loadBalancerIP that is no address, a
 * label that is no label) is reported in Kubernetes' words, naming aks-emu.yaml.
 */
import type { IngressServiceValues, IngressSettings } from '../../config/types.js';
import { ManifestInvalidError, type FieldError } from '../../errors/index.js';
import { parseObjects, type RawObject } from '../../manifests/index.js';
import { stableUid } from '../../manifests/uid.js';
import type { ConfigMap, IngressClass, Namespace, Service, Workload } from '../../model/types.js';
import { RUNTIME_ANNOTATION } from '../pod-info.js';
import { CONTROLLER_NAMES } from './types.js';

/** The chart's defaults for `helm install ingress-nginx ingress-nginx/ingress-nginx --namespace ingress-nginx`. */
export const CONTROLLER_NAMESPACE = 'ingress-nginx';
export const CONTROLLER_NAME = 'ingress-nginx-controller';
/** Where the rendered objects say they come from, in every error and listing. */
export const CONTROLLER_SOURCE_FILE = '<built-in ingress-nginx: aks-emu.yaml ingress>';
/** Tells the control plane which pod runtime serves these pods. */
export { RUNTIME_ANNOTATION } from '../pod-info.js';

const CHART_NAME = 'ingress-nginx';
const CHART_VERSION = '4.12.1';
const APP_VERSION = '1.12.1';
const IMAGE = `registry.k8s.io/ingress-nginx/controller:v${APP_VERSION}`;
/** AKS app routing's class, served by the same controller. */
const APP_ROUTING_CLASS = 'webapprouting.kubernetes.azure.com';
/** The probe path AKS's ingress guide sets on the controller's Service. */
export const HEALTH_PROBE_PATH_ANNOTATION = 'service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path';

/** Helm's `trunc 63 | trimSuffix "-"`. */
function trunc63(s: string): string {
  const cut = s.slice(0, 63);
  return cut.endsWith('-') ? cut.slice(0, -1) : cut;
}

/** The names and labels the chart derives from its values: what policies and tutorials select. */
export interface ControllerChart {
  readonly releaseName: string;
  /** `ingress-nginx.namespace`: namespaceOverride, else the release namespace. */
  readonly namespace: string;
  /** `ingress-nginx.controller.fullname`: the Deployment's, the Service's and the ConfigMap's name. */
  readonly name: string;
  /** The Deployment's selector and the Service's selector. */
  readonly selector: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  /** Where `--configmap` points. */
  readonly configMap: { readonly namespace: string; readonly name: string };
  /** `controller.config`: the ConfigMap's data as the chart renders it. */
  readonly config: Readonly<Record<string, string>>;
  /** IngressClass names the controller serves. */
  readonly classes: readonly string[];
  /** False when `controller.service.enabled: false`: the user brings the Service. */
  readonly serviceEnabled: boolean;
}

export function controllerChart(settings: IngressSettings): ControllerChart {
  const values = settings.values ?? {};
  const c = values.controller ?? {};
  const release = settings.releaseName ?? CONTROLLER_NAMESPACE;
  const name = trunc63(values.nameOverride ?? CHART_NAME);
  const fullname = values.fullnameOverride ? trunc63(values.fullnameOverride) : release.includes(name) ? trunc63(release) : trunc63(`${release}-${name}`);
  const namespace = trunc63(values.namespaceOverride ?? settings.namespace ?? CONTROLLER_NAMESPACE);
  const controllerName = trunc63(`${fullname}-${c.name ?? 'controller'}`);
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': release, 'app.kubernetes.io/component': 'controller' };
  const classResource = c.ingressClassResource ?? {};
  return {
    releaseName: release,
    namespace,
    name: controllerName,
    selector,
    podLabels: { ...commonLabels(settings, name, release), ...selector, ...c.labels, ...c.podLabels },
    configMap: { namespace: c.configMapNamespace ?? namespace, name: controllerName },
    config: { ...c.config },
    classes: [...(classResource.enabled === false ? [] : [classResource.name ?? 'nginx']), APP_ROUTING_CLASS],
    serviceEnabled: c.service?.enabled !== false,
  };
}

/** `ingress-nginx.labels`: on every object the chart renders. */
function commonLabels(settings: IngressSettings, name: string, release: string): Record<string, string> {
  return {
    'helm.sh/chart': `${CHART_NAME}-${CHART_VERSION}`,
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/version': APP_VERSION,
    'app.kubernetes.io/part-of': name,
    'app.kubernetes.io/managed-by': 'Helm',
    ...settings.values?.commonLabels,
  };
}

function healthProbe(failureThreshold: number): Record<string, unknown> {
  return {
    httpGet: { path: '/healthz', port: 10254, scheme: 'HTTP' },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold,
  };
}

function omitUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * controller-service.yaml (`external`) and controller-service-internal.yaml (`internal`):
 * the internal one takes its own fields, its ports and targetPorts falling back to the
 * main Service's, and only its own annotations and nodePorts.
 */
function serviceObject(settings: IngressSettings, chart: ControllerChart, which: 'external' | 'internal'): Record<string, unknown> {
  const main = settings.values?.controller?.service ?? {};
  const own: IngressServiceValues = which === 'external' ? main : (main.internal ?? {});
  const type = own.type || main.type || 'LoadBalancer';
  // The chart decides from the main Service's type whether nodePorts are rendered, for both.
  const mainType = main.type ?? 'LoadBalancer';
  const setNodePorts = mainType === 'NodePort' || mainType === 'LoadBalancer';
  const appProtocol = own.appProtocol !== false;
  const port = (key: 'http' | 'https', dflt: number) =>
    omitUndefined({
      name: key,
      port: own.ports?.[key] ?? main.ports?.[key] ?? dflt,
      protocol: 'TCP',
      targetPort: own.targetPorts?.[key] ?? main.targetPorts?.[key] ?? key,
      appProtocol: appProtocol ? key : undefined,
      nodePort: setNodePorts ? own.nodePorts?.[key] : undefined,
    });
  const values = settings.values;
  const name = trunc63(values?.nameOverride ?? CHART_NAME);
  const extraLabels = which === 'external' ? main.external?.labels : main.internal?.labels;
  // Without a value from the user, the probe path AKS's guide sets (see the file's comment); the chart's internal Service has only its own.
  const annotations = which === 'external' ? { [HEALTH_PROBE_PATH_ANNOTATION]: '/healthz', ...main.annotations } : { ...own.annotations };
  const serviceName = which === 'external' ? chart.name : `${chart.name}-internal`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName,
      namespace: chart.namespace,
      uid: stableUid('built-in', chart.namespace, serviceName),
      labels: { ...commonLabels(settings, name, chart.releaseName), 'app.kubernetes.io/component': 'controller', ...main.labels, ...extraLabels },
      annotations,
    },
    spec: omitUndefined({
      type,
      clusterIP: own.clusterIP,
      loadBalancerIP: own.loadBalancerIP,
      loadBalancerSourceRanges: own.loadBalancerSourceRanges?.length ? own.loadBalancerSourceRanges : undefined,
      loadBalancerClass: own.loadBalancerClass,
      allocateLoadBalancerNodePorts: own.allocateLoadBalancerNodePorts,
      externalTrafficPolicy: own.externalTrafficPolicy,
      sessionAffinity: own.sessionAffinity,
      healthCheckNodePort: own.healthCheckNodePort,
      ports: [...(main.enableHttp === false ? [] : [port('http', 80)]), ...(main.enableHttps === false ? [] : [port('https', 443)])],
      selector: { ...chart.selector },
    }),
  };
}

/**
 * The controller's Namespace as ingress-nginx's own deploy manifests (deploy/static) write it,
 * with the name and instance labels, so a NetworkPolicy's namespaceSelector on either (the
 * usual "from the ingress controller" rule) selects it; `kubernetes.io/metadata.name` is on
 * every namespace anyway (cluster/netpol).
 */
function namespaceObject(settings: IngressSettings, chart: ControllerChart): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: chart.namespace,
      uid: stableUid('built-in', '', chart.namespace),
      labels: { 'app.kubernetes.io/name': trunc63(settings.values?.nameOverride ?? CHART_NAME), 'app.kubernetes.io/instance': chart.releaseName },
    },
  };
}

function deploymentObject(settings: IngressSettings, chart: ControllerChart): Record<string, unknown> {
  const c = settings.values?.controller ?? {};
  const name = trunc63(settings.values?.nameOverride ?? CHART_NAME);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: chart.name,
      namespace: chart.namespace,
      uid: stableUid('built-in', chart.namespace, chart.name),
      labels: { ...commonLabels(settings, name, chart.releaseName), 'app.kubernetes.io/component': 'controller', ...c.labels },
    },
    spec: {
      replicas: settings.replicas,
      selector: { matchLabels: { ...chart.selector } },
      template: {
        metadata: { labels: { ...chart.podLabels }, annotations: { ...c.podAnnotations, [RUNTIME_ANNOTATION]: 'ingress-controller' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: 'controller',
              image: IMAGE,
              args: ['/nginx-ingress-controller', `--configmap=${chart.configMap.namespace}/${chart.configMap.name}`],
              ports: [
                { name: 'http', containerPort: 80, protocol: 'TCP' },
                { name: 'https', containerPort: 443, protocol: 'TCP' },
              ],
              readinessProbe: healthProbe(3),
              livenessProbe: healthProbe(5),
            },
          ],
        },
      },
    },
  };
}

export interface ControllerObjects {
  readonly chart: ControllerChart;
  readonly namespaces: Namespace[];
  readonly services: Service[];
  readonly workloads: Workload[];
  readonly configMaps: ConfigMap[];
  readonly ingressClasses: IngressClass[];
  /** Values that render into invalid objects: nothing of the controller is added then. */
  readonly errors: readonly FieldError[];
}

const rendered = new WeakMap<IngressSettings, ControllerObjects>();

/** The chart's objects for these settings; rendered once per settings object (config is immutable). */
export function ingressControllerObjects(settings: IngressSettings): ControllerObjects {
  const cached = rendered.get(settings);
  if (cached) return cached;
  const objects = render(settings);
  rendered.set(settings, objects);
  return objects;
}

function render(settings: IngressSettings): ControllerObjects {
  const chart = controllerChart(settings);
  const service = settings.values?.controller?.service;
  const docs: Record<string, unknown>[] = [
    namespaceObject(settings, chart),
    deploymentObject(settings, chart),
    ...(chart.serviceEnabled && service?.external?.enabled !== false ? [serviceObject(settings, chart, 'external')] : []),
    // controller-service-internal.yaml renders only with annotations (what makes it internal on a cloud).
    ...(chart.serviceEnabled && service?.internal?.enabled === true && Object.keys(service.internal.annotations ?? {}).length > 0
      ? [serviceObject(settings, chart, 'internal')]
      : []),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: chart.configMap.name,
        namespace: chart.configMap.namespace,
        uid: stableUid('built-in', chart.configMap.namespace, chart.configMap.name),
      },
      data: chart.config,
    },
  ];
  const classResource = settings.values?.controller?.ingressClassResource ?? {};
  const classes = [
    ...(classResource.enabled === false
      ? []
      : [
          {
            name: classResource.name ?? 'nginx',
            controller: classResource.controllerValue ?? CONTROLLER_NAMES[0] ?? 'k8s.io/ingress-nginx',
            isDefault: classResource.default === true,
          },
        ]),
    { name: APP_ROUTING_CLASS, controller: CONTROLLER_NAMES[1] ?? 'webapprouting.kubernetes.azure.com/nginx', isDefault: false },
  ];
  for (const c of classes) {
    docs.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: c.name,
        uid: stableUid('built-in', '', c.name),
        ...(c.isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
      },
      spec: { controller: c.controller },
    });
  }
  const raw: RawObject[] = docs.map((object, i) => ({ file: CONTROLLER_SOURCE_FILE, doc: i + 1, object }));
  const empty = { chart, namespaces: [], services: [], workloads: [], configMaps: [], ingressClasses: [] };
  try {
    const { manifests } = parseObjects(raw);
    return {
      chart,
      namespaces: [...manifests.namespaces],
      services: [...manifests.services],
      workloads: [...manifests.workloads],
      configMaps: [...(manifests.configMaps ?? [])],
      ingressClasses: [...manifests.ingressClasses],
      errors: [],
    };
  } catch (err) {
    // The values rendered into an invalid object: report its field errors with the user's.
    if (err instanceof ManifestInvalidError) return { ...empty, errors: err.errors };
    throw err;
  }
}
