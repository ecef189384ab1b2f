/** Small builders of normalised manifest objects for control-plane tests. */
import { stableUid } from '../../src/cluster/hash.js';
import { defaultConfig } from '../../src/config/defaults.js';
import type { ClusterConfig } from '../../src/config/types.js';
import type {
  Container,
  ContainerPort,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  Manifests,
  ObjectMeta,
  PodSpec,
  ProbeSpec,
  Service,
  ServicePort,
  ServiceSpec,
  Workload,
  WorkloadKind,
} from '../../src/model/types.js';
import { SERVICE_SPEC_DEFAULTS } from '../../src/model/defaults.js';

let documents = 0;

interface MetaInput {
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly uid?: string;
}

function meta(kind: string, name: string, m: MetaInput = {}): ObjectMeta {
  const namespace = m.namespace ?? 'default';
  return {
    name,
    namespace,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    uid: m.uid ?? stableUid(`${kind}/${namespace}/${name}`),
  };
}

const source = () => ({ file: 'test.yaml', doc: ++documents });

export function servicePort(p: Partial<ServicePort> & { port: number }): ServicePort {
  return { name: '', protocol: 'TCP', targetPort: p.port, ...p };
}

export type ServiceInput = Partial<Omit<ServiceSpec, 'ports'>> & { ports?: (Partial<ServicePort> & { port: number })[] } & MetaInput;

export function service(name: string, input: ServiceInput = {}): Service {
  const { namespace, labels, annotations, uid, ports, ...spec } = input;
  return {
    kind: 'Service',
    source: source(),
    metadata: meta('Service', name, { namespace, labels, annotations, uid }),
    spec: {
      type: 'ClusterIP',
      ports: (ports ?? [{ port: 80 }]).map(servicePort),
      selector: { app: name },
      ...SERVICE_SPEC_DEFAULTS,
      ...spec,
    },
  };
}

export function loadBalancer(name: string, input: ServiceInput = {}): Service {
  return service(name, { type: 'LoadBalancer', ...input });
}

export const probeSpec = (p: Partial<ProbeSpec> = {}): ProbeSpec => ({
  httpGet: { path: '/ready', port: 8080, scheme: 'HTTP', httpHeaders: [] },
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  ...p,
});

export function container(name = 'app', ports: (Partial<ContainerPort> & { containerPort: number })[] = [], extra: Partial<Container> = {}): Container {
  return { name, image: 'echo', ports: ports.map((p) => ({ protocol: 'TCP', ...p })), ...extra };
}

export interface WorkloadInput extends MetaInput, Partial<PodSpec> {
  readonly replicas?: number;
  readonly podLabels?: Record<string, string>;
}

export function workload(kind: WorkloadKind, name: string, input: WorkloadInput = {}): Workload {
  const { namespace, labels, annotations, uid, replicas, podLabels, ...spec } = input;
  const templateLabels = podLabels ?? { app: name };
  return {
    kind,
    source: source(),
    metadata: meta(kind, name, { namespace, labels, annotations, uid }),
    replicas: kind === 'Pod' ? 1 : (replicas ?? 1),
    selector: templateLabels,
    template: {
      labels: templateLabels,
      annotations: {},
      spec: { nodeSelector: {}, containers: [container()], initContainers: [], hostNetwork: false, ...spec },
    },
  };
}

export const deployment = (name: string, input: WorkloadInput = {}) => workload('Deployment', name, input);

export function endpointSlice(
  serviceName: string,
  endpoints: (Partial<EndpointSliceEndpoint> & { addresses: string[] })[],
  ports: (Partial<EndpointSlicePort> & { port: number })[],
  m: MetaInput & { name?: string } = {},
): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    source: source(),
    metadata: meta('EndpointSlice', m.name ?? `${serviceName}-abc12`, m),
    serviceName,
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ ready: true, serving: true, terminating: false, ...e })),
    ports: ports.map((p) => ({ name: '', protocol: 'TCP', ...p })),
    writtenAs: 'EndpointSlice',
  };
}

export function manifests(m: Partial<Manifests> = {}): Manifests {
  return { services: [], workloads: [], endpointSlices: [], secrets: [], namespaces: [], ingresses: [], ingressClasses: [], skipped: [], ...m };
}

export function config(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return defaultConfig({ nodes: ['node-0', 'node-1', 'node-2'], ...overrides });
}

/** A random source that always answers the same value (0 = the lowest candidate first). */
export const fixedRandom =
  (value = 0) =>
  (): number =>
    value;

/** A deterministic pseudo-random source for tests that need spread (a 31-bit LCG). */
export function seeded(seed = 1): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}
