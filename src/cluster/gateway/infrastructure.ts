/**
 * What Istio's automated deployment creates for each Gateway of a class it serves: a
 * Deployment of gateway pods and a LoadBalancer Service, both named
 * `<gateway-name>-<gatewayclass-name>` in the Gateway's namespace, the Service carrying
 * spec.infrastructure's labels and annotations (so the Azure internal-LB annotation makes
 * its frontend internal). The built-in GatewayClasses are added unless the user wrote
 * their own of the same name.
 *
 * Differences from Istio, on purpose: the listener ports carry no appProtocol, so
 * cloud-provider-azure probes them over TCP (with `appProtocol: http` it would probe
 * HTTP `/`, which a gateway answers 404 unless a route serves `/`); one replica, Istio's
 * default without an HPA.
 */
import type { Gateway, GatewayApiObjects, GatewayClass } from '../../model/gateway-types.js';
import { objectKey, type Manifests, type ObjectMeta, type Service, type Source, type Workload } from '../../model/types.js';
import { SERVICE_SPEC_DEFAULTS } from '../../model/defaults.js';
import { stableUid } from '../../manifests/uid.js';
import { RUNTIME_ANNOTATION } from '../pod-info.js';
import { BUILT_IN_GATEWAY_CLASSES, GATEWAY_CONTROLLER_NAME, GATEWAY_POD_ANNOTATION, GATEWAY_STATUS_PORT } from './types.js';

export const GATEWAY_SOURCE_FILE = '<built-in istio gateway controller>';
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const MANAGED_LABEL = 'gateway.istio.io/managed';

export function gatewayServiceName(gatewayName: string, className: string): string {
  return `${gatewayName}-${className}`;
}

function builtInClass(name: string, doc: number): GatewayClass {
  return {
    kind: 'GatewayClass',
    source: { file: GATEWAY_SOURCE_FILE, doc },
    metadata: { name, namespace: '', labels: {}, annotations: {}, uid: stableUid('built-in', '', name) },
    controllerName: GATEWAY_CONTROLLER_NAME,
    description: name === 'istio' ? 'The default Istio GatewayClass' : 'AKS application routing (Istio) GatewayClass',
  };
}

/** The user's GatewayClasses plus the built-in ones they did not redefine. */
export function effectiveGatewayClasses(objects: GatewayApiObjects): GatewayClass[] {
  const own = new Set(objects.gatewayClasses.map((c) => c.metadata.name));
  const builtIn = BUILT_IN_GATEWAY_CLASSES.filter((n) => !own.has(n)).map((n, i) => builtInClass(n, i + 1));
  return [...builtIn, ...objects.gatewayClasses];
}

export function servedClasses(classes: readonly GatewayClass[]): Set<string> {
  return new Set(classes.filter((c) => c.controllerName === GATEWAY_CONTROLLER_NAME).map((c) => c.metadata.name));
}

function meta(gateway: Gateway, labels: Record<string, string>, annotations: Record<string, string>): ObjectMeta {
  const name = gatewayServiceName(gateway.metadata.name, gateway.gatewayClassName);
  const { namespace } = gateway.metadata;
  return { name, namespace, labels, annotations, uid: stableUid('gateway', namespace, name) };
}

/** The Deployment and Service of one Gateway. */
export function gatewayInfrastructure(gateway: Gateway, source: Source): { workload: Workload; service: Service } {
  const selector = { [GATEWAY_NAME_LABEL]: gateway.metadata.name };
  const labels = { ...gateway.infrastructure.labels, ...selector, [MANAGED_LABEL]: 'istio.io-gateway-controller' };
  const ports = [...new Map(gateway.listeners.map((l) => [l.port, l])).values()];
  const requested = gateway.addresses.find((a) => a.type === 'IPAddress' && a.value !== '')?.value;
  const workload: Workload = {
    kind: 'Deployment',
    source,
    metadata: meta(gateway, labels, {}),
    replicas: 1,
    selector,
    template: {
      labels,
      annotations: { [RUNTIME_ANNOTATION]: 'gateway', [GATEWAY_POD_ANNOTATION]: objectKey(gateway.metadata) },
      spec: {
        nodeSelector: {},
        hostNetwork: false,
        initContainers: [],
        containers: [
          {
            name: 'istio-proxy',
            image: 'docker.io/istio/proxyv2:1.26.0',
            ports: [
              { name: 'status-port', containerPort: GATEWAY_STATUS_PORT, protocol: 'TCP' },
              ...ports.map((l) => ({ containerPort: l.port, protocol: 'TCP' as const })),
            ],
            readinessProbe: {
              httpGet: { path: '/healthz/ready', port: GATEWAY_STATUS_PORT, scheme: 'HTTP', httpHeaders: [] },
              initialDelaySeconds: 0,
              periodSeconds: 15,
              timeoutSeconds: 1,
              successThreshold: 1,
              failureThreshold: 4,
            },
          },
        ],
      },
    },
  };
  const service: Service = {
    kind: 'Service',
    source,
    metadata: meta(gateway, labels, { ...gateway.infrastructure.annotations }),
    spec: {
      type: 'LoadBalancer',
      ports: [
        { name: 'status-port', protocol: 'TCP', port: GATEWAY_STATUS_PORT, targetPort: GATEWAY_STATUS_PORT, appProtocol: 'tcp' },
        ...ports.map((l) => ({ name: l.name, protocol: 'TCP' as const, port: l.port, targetPort: l.port })),
      ],
      selector,
      ...SERVICE_SPEC_DEFAULTS,
      // Istio asks for the Gateway's first IPAddress in spec.addresses as the Service's loadBalancerIP.
      ...(requested ? { loadBalancerIP: requested } : {}),
    },
  };
  return { workload, service };
}

/** The user's manifests plus every served Gateway's Deployment and Service. */
export function withGatewayInfrastructure(manifests: Manifests): Manifests {
  const objects = manifests.gatewayApi;
  if (!objects || objects.gateways.length === 0) return manifests;
  const served = servedClasses(effectiveGatewayClasses(objects));
  const services: Service[] = [];
  const workloads: Workload[] = [];
  objects.gateways.forEach((gw, i) => {
    if (!served.has(gw.gatewayClassName)) return;
    const built = gatewayInfrastructure(gw, { file: GATEWAY_SOURCE_FILE, doc: i + 1 });
    services.push(built.service);
    workloads.push(built.workload);
  });
  return { ...manifests, services: [...manifests.services, ...services], workloads: [...manifests.workloads, ...workloads] };
}
