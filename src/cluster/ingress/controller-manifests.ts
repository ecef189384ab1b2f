/**
 * The built-in controller's own objects, as the ingress-nginx Helm chart installs them
 * (and as AKS app routing names its class): namespace ingress-nginx, Deployment and
 * LoadBalancer Service `ingress-nginx-controller`, IngressClasses `nginx` and
 * `webapprouting.kubernetes.azure.com`.
 *
 * externalTrafficPolicy: Cluster, the chart's default (controller.service.externalTrafficPolicy
 * unset); AKS's ingress guide only offers Local as an opt-in to keep client IPs. So the
 * controller sees the node's address, not the client's, exactly as on a default install.
 * The ports carry appProtocol http/https (chart default), which makes cloud-provider-azure
 * probe over HTTP; AKS's guide therefore sets the probe path to /healthz, which the
 * controller's default server answers with 200.
 */
import type { IngressClass, Namespace, ObjectMeta, ProbeSpec, Service, Source, Workload } from '../../model/types.js';
import { CONTROLLER_NAMES } from './types.js';

export const CONTROLLER_NAMESPACE = 'ingress-nginx';
export const CONTROLLER_NAME = 'ingress-nginx-controller';
export const CONTROLLER_SOURCE_FILE = '<built-in ingress-nginx>';
/** Tells the control plane which pod runtime serves these pods. */
export { RUNTIME_ANNOTATION } from '../pod-info.js';
import { RUNTIME_ANNOTATION } from '../pod-info.js';
import { stableUid } from '../../manifests/uid.js';
import { SERVICE_SPEC_DEFAULTS } from '../../model/defaults.js';

const LABELS = Object.freeze({
  'app.kubernetes.io/name': 'ingress-nginx',
  'app.kubernetes.io/instance': 'ingress-nginx',
  'app.kubernetes.io/component': 'controller',
});

function source(doc: number): Source {
  return { file: CONTROLLER_SOURCE_FILE, doc };
}

function meta(name: string, namespace: string, annotations: Record<string, string> = {}): ObjectMeta {
  return { name, namespace, labels: { ...LABELS }, annotations, uid: stableUid('built-in', namespace, name) };
}

function healthProbe(failureThreshold: number): ProbeSpec {
  return {
    httpGet: { path: '/healthz', port: 10254, scheme: 'HTTP', httpHeaders: [] },
    initialDelaySeconds: 10,
    periodSeconds: 10,
    timeoutSeconds: 1,
    successThreshold: 1,
    failureThreshold,
  };
}

export interface ControllerObjects {
  readonly namespaces: Namespace[];
  readonly services: Service[];
  readonly workloads: Workload[];
  readonly ingressClasses: IngressClass[];
}

export function ingressControllerObjects(replicas: number): ControllerObjects {
  const namespace: Namespace = { kind: 'Namespace', source: source(1), metadata: { ...meta(CONTROLLER_NAMESPACE, ''), labels: {} } };
  const deployment: Workload = {
    kind: 'Deployment',
    source: source(2),
    metadata: meta(CONTROLLER_NAME, CONTROLLER_NAMESPACE),
    replicas,
    selector: { ...LABELS },
    template: {
      labels: { ...LABELS },
      annotations: { [RUNTIME_ANNOTATION]: 'ingress-controller' },
      spec: {
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        hostNetwork: false,
        initContainers: [],
        containers: [
          {
            name: 'controller',
            image: 'registry.k8s.io/ingress-nginx/controller:v1.12.1',
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
  };
  const svc: Service = {
    kind: 'Service',
    source: source(3),
    metadata: meta(CONTROLLER_NAME, CONTROLLER_NAMESPACE, {
      'service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path': '/healthz',
    }),
    spec: {
      type: 'LoadBalancer',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', appProtocol: 'http' },
        { name: 'https', protocol: 'TCP', port: 443, targetPort: 'https', appProtocol: 'https' },
      ],
      selector: { ...LABELS },
      ...SERVICE_SPEC_DEFAULTS,
    },
  };
  const classes: IngressClass[] = [
    { name: 'nginx', controller: CONTROLLER_NAMES[0] ?? 'k8s.io/ingress-nginx' },
    { name: 'webapprouting.kubernetes.azure.com', controller: CONTROLLER_NAMES[1] ?? 'webapprouting.kubernetes.azure.com/nginx' },
  ].map((c, i) => ({
    kind: 'IngressClass',
    source: source(4 + i),
    metadata: meta(c.name, ''),
    spec: { controller: c.controller },
    isDefault: false,
  }));
  return { namespaces: [namespace], services: [svc], workloads: [deployment], ingressClasses: classes };
}
