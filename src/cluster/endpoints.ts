/**
 * Endpoints per Service port, as the EndpointSlice controller publishes them and
 * kube-proxy reads them.
 *
 * With a selector: pods of the Service's namespace whose labels include the selector and
 * that have an address. A numeric targetPort is used as is; a named one is looked up per
 * pod among its containers' ports of the same protocol (FindPort), and a pod without it is
 * left out for that port. Ready = the pod is Ready, or always under
 * publishNotReadyAddresses. Without a selector: the EndpointSlices that name the Service,
 * ports matched by name and protocol. ExternalName Services have none.
 */
import type { EndpointSlice, Service, ServicePort } from '../model/types.js';
import { objectKey } from '../model/types.js';
import { selectorMatches } from './labels.js';
import type { Endpoint, PodInfo, ServiceEndpoints, ServicePortEndpoints } from './snapshot.js';

export function hasSelector(service: Service): boolean {
  return service.spec.selector !== undefined && Object.keys(service.spec.selector).length > 0;
}

/** podutil.FindPort: the container port a targetPort means for this pod, if any. */
export function resolveTargetPort(pod: PodInfo, port: ServicePort): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  for (const container of pod.containers) {
    for (const cp of container.ports) {
      if (cp.name === port.targetPort && cp.protocol === port.protocol) return cp.containerPort;
    }
  }
  return undefined;
}

/** kube-proxy: ready endpoints; if none is ready, the serving and terminating ones; all under publishNotReadyAddresses. */
export function usableEndpoints(endpoints: readonly Endpoint[], publishNotReadyAddresses: boolean): Endpoint[] {
  if (publishNotReadyAddresses) return [...endpoints];
  const ready = endpoints.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return endpoints.filter((e) => e.serving && e.terminating);
}

function ipOrder(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function byPodThenAddress(a: Endpoint, b: Endpoint): number {
  const pa = a.podName === undefined ? '' : `${a.podNamespace}/${a.podName}`;
  const pb = b.podName === undefined ? '' : `${b.podNamespace}/${b.podName}`;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return ipOrder(a.ip) - ipOrder(b.ip) || a.port - b.port;
}

/**
 * Pods by namespace and label pair, in pod order: a selector's pods are among those of any
 * one of its pairs, so a Service looks at those instead of every pod of the cluster (1,000
 * Services of 3 pods each were 3 million selector checks per snapshot).
 */
type PodsByLabel = ReadonlyMap<string, readonly PodInfo[]>;

const labelKey = (namespace: string, key: string, value: string): string => `${namespace}\0${key}\0${value}`;

function podsByLabel(pods: readonly PodInfo[]): PodsByLabel {
  const index = new Map<string, PodInfo[]>();
  for (const pod of pods) {
    for (const [k, v] of Object.entries(pod.labels)) {
      const key = labelKey(pod.namespace, k, v);
      const list = index.get(key);
      if (list === undefined) index.set(key, [pod]);
      else list.push(pod);
    }
  }
  return index;
}

/** The pods that may match the Service's (non-empty) selector: those with its first pair. */
function candidatePods(service: Service, pods: readonly PodInfo[], index: PodsByLabel | undefined): readonly PodInfo[] {
  if (index === undefined) return pods;
  const first = Object.entries(service.spec.selector ?? {})[0];
  return first === undefined ? pods : (index.get(labelKey(service.metadata.namespace, first[0], first[1])) ?? []);
}

function podEndpoints(service: Service, port: ServicePort, pods: readonly PodInfo[]): Endpoint[] {
  const selector = service.spec.selector ?? {};
  const endpoints: Endpoint[] = [];
  for (const pod of pods) {
    if (pod.namespace !== service.metadata.namespace || pod.ip === '' || !selectorMatches(selector, pod.labels)) continue;
    const target = resolveTargetPort(pod, port);
    if (target === undefined) continue;
    endpoints.push({
      ip: pod.ip,
      port: target,
      nodeName: pod.nodeName,
      podNamespace: pod.namespace,
      podName: pod.name,
      ready: service.spec.publishNotReadyAddresses || pod.ready,
      serving: pod.ready,
      terminating: false,
    });
  }
  return endpoints;
}

function sliceEndpoints(service: Service, port: ServicePort, slices: readonly EndpointSlice[]): Endpoint[] {
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const slice of slices) {
    if (slice.metadata.namespace !== service.metadata.namespace || slice.serviceName !== service.metadata.name) continue;
    if (slice.addressType !== 'IPv4') continue;
    const slicePort = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!slicePort) continue;
    for (const e of slice.endpoints) {
      for (const ip of e.addresses) {
        const id = `${ip}:${slicePort.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        endpoints.push({
          ip,
          port: slicePort.port,
          ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
          ready: e.ready,
          serving: e.serving,
          terminating: e.terminating,
        });
      }
    }
  }
  return endpoints;
}

export function serviceEndpoints(service: Service, pods: readonly PodInfo[], slices: readonly EndpointSlice[], index?: PodsByLabel): ServiceEndpoints {
  const candidates = hasSelector(service) ? candidatePods(service, pods, index) : [];
  const ports = service.spec.ports.map((port): ServicePortEndpoints => {
    const endpoints = (hasSelector(service) ? podEndpoints(service, port, candidates) : sliceEndpoints(service, port, slices)).sort(byPodThenAddress);
    return {
      name: port.name,
      protocol: port.protocol,
      ...(port.appProtocol === undefined ? {} : { appProtocol: port.appProtocol }),
      endpoints,
      usable: usableEndpoints(endpoints, service.spec.publishNotReadyAddresses),
    };
  });
  return { serviceKey: objectKey(service.metadata), ports };
}

/** Endpoints of every Service that has any (all but ExternalName), sorted by Service key. */
export function buildEndpoints(services: readonly Service[], pods: readonly PodInfo[], slices: readonly EndpointSlice[]): ServiceEndpoints[] {
  const index = podsByLabel(pods);
  return services
    .filter((s) => s.spec.type !== 'ExternalName')
    .map((s) => serviceEndpoints(s, pods, slices, index))
    .sort((a, b) => (a.serviceKey < b.serviceKey ? -1 : a.serviceKey > b.serviceKey ? 1 : 0));
}
