/**
 * Snapshot → Kubernetes-shaped JSON (ServiceList, PodList, NodeList, EndpointSliceList),
 * so that `aks-emu get -o json` and the admin API read like kubectl and the API server.
 */
import type { Endpoint, NodeInfo, PodInfo, ServiceEndpoints, ServiceInfo, Snapshot } from '../cluster/snapshot.js';
import type { Ingress } from '../model/types.js';
import { publishedAddress } from '../cluster/ingress/types.js';
import { kubernetesVersion } from './version.js';

/** When each object first appeared; the runtime keeps it so AGE means what kubectl means. */
export type CreationTimes = (kind: string, key: string) => string;

function meta(kind: string, ns: string, name: string, uid: string, created: CreationTimes, extra: object = {}) {
  const key = ns ? `${ns}/${name}` : name;
  return { name, ...(ns ? { namespace: ns } : {}), uid, creationTimestamp: created(kind, key), ...extra };
}

function list(kind: string, apiVersion: string, items: unknown[], resourceVersion: number) {
  return { kind, apiVersion, metadata: { resourceVersion: String(resourceVersion) }, items };
}

export function serviceObject(s: ServiceInfo, created: CreationTimes) {
  const lb = s.loadBalancer;
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: meta('Service', s.namespace, s.name, s.uid, created, { labels: s.labels, annotations: s.annotations }),
    spec: {
      type: s.type,
      ...(s.selector ? { selector: s.selector } : {}),
      ...(s.type === 'ExternalName' ? { externalName: s.externalName } : { clusterIP: s.clusterIP, clusterIPs: s.clusterIP ? [s.clusterIP] : [] }),
      ports: s.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        protocol: p.protocol,
        port: p.port,
        targetPort: p.targetPort,
        ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
      sessionAffinity: s.sessionAffinity,
      ...(s.sessionAffinity === 'ClientIP' ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: s.sessionAffinityTimeoutSeconds } } } : {}),
      ...(s.type === 'NodePort' || s.type === 'LoadBalancer' ? { externalTrafficPolicy: s.externalTrafficPolicy } : {}),
      internalTrafficPolicy: s.internalTrafficPolicy,
      ...(s.healthCheckNodePort !== undefined ? { healthCheckNodePort: s.healthCheckNodePort } : {}),
      ...(s.loadBalancerSourceRanges.length ? { loadBalancerSourceRanges: s.loadBalancerSourceRanges } : {}),
      ...(s.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    },
    status: { loadBalancer: lb?.ip ? { ingress: [{ ip: lb.ip, ipMode: 'VIP' }] } : {} },
  };
}

/** Set on every pod object the API returns. */
export const POD_KIND_ANNOTATION = 'aks-emu.io/pod-kind';

export function podObject(p: PodInfo, created: CreationTimes) {
  const ready = p.ready ? 'True' : 'False';
  const time = created('Pod', `${p.namespace}/${p.name}`);
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: meta('Pod', p.namespace, p.name, p.uid, created, {
      labels: p.labels,
      // Which pod kind serves it (echo, ingress-controller, process, ...): `get pods` shows it.
      annotations: { ...p.annotations, [POD_KIND_ANNOTATION]: p.runtime.kind },
      ownerReferences: p.ownerKind === 'Pod' ? [] : [{ kind: ownerKindOfPod(p.ownerKind), name: p.ownerName, controller: true }],
    }),
    spec: {
      nodeName: p.phase === 'Pending' ? undefined : p.nodeName,
      ...(p.hostname === undefined ? {} : { hostname: p.hostname }),
      ...(p.subdomain === undefined ? {} : { subdomain: p.subdomain }),
      containers: p.containers,
    },
    status: {
      phase: p.phase,
      // kubelet's rejection (OutOfpods) is the pod's own reason; the scheduler's goes on PodScheduled.
      ...(p.pending && p.pending.reason === 'OutOfpods' ? { reason: p.pending.reason, message: p.pending.message } : {}),
      ...(p.phase === 'Running' ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      conditions: [
        {
          type: 'PodScheduled',
          status: p.phase === 'Pending' && (!p.pending || p.pending.reason === 'Unschedulable') ? 'False' : 'True',
          ...(p.pending?.reason === 'Unschedulable' ? { reason: p.pending.reason, message: p.pending.message } : {}),
          lastTransitionTime: time,
        },
        { type: 'Ready', status: ready, lastTransitionTime: time },
        { type: 'ContainersReady', status: ready, lastTransitionTime: time },
      ],
      containerStatuses: p.containers.map((c) => {
        const reported = p.containerStatuses?.find((s) => s.name === c.name);
        if (reported) {
          return {
            name: c.name,
            image: c.image,
            ready: reported.ready && p.ready,
            restartCount: reported.restartCount,
            started: reported.started,
            state: reported.state,
            ...(reported.lastState ? { lastState: reported.lastState } : {}),
          };
        }
        return {
          name: c.name,
          image: c.image,
          ready: p.ready,
          restartCount: 0,
          started: p.phase === 'Running',
          state:
            p.phase === 'Running'
              ? { running: { startedAt: time } }
              : p.pending?.reason === 'FailedCreatePodSandBox'
                ? { waiting: { reason: 'ContainerCreating', message: p.pending.message } }
                : { waiting: { reason: 'Pending' } },
        };
      }),
    },
  };
}

/** A Deployment's pods are owned by its ReplicaSet, as kubectl shows. */
function ownerKindOfPod(kind: PodInfo['ownerKind']): string {
  return kind === 'Deployment' ? 'ReplicaSet' : kind;
}

export function nodeObject(n: NodeInfo, created: CreationTimes) {
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: meta('Node', '', n.name, n.name, created, { labels: n.labels, ...(Object.keys(n.annotations).length > 0 ? { annotations: n.annotations } : {}) }),
    spec: {
      podCIDR: n.podCIDR,
      podCIDRs: [n.podCIDR],
      providerID: `aks-emu://${n.name}`,
      // The node lifecycle controller taints a cordoned node (TaintNodesByCondition).
      ...(n.unschedulable ? { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'Unknown', reason: n.ready ? 'KubeletReady' : 'NodeStatusUnknown' }],
      nodeInfo: {
        kubeletVersion: kubernetesVersion,
        kubeProxyVersion: kubernetesVersion,
        osImage: 'Ubuntu 22.04.5 LTS (aks-emu)',
        containerRuntimeVersion: 'aks-emu://embedded',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** One EndpointSlice per Service, named like the EndpointSlice controller's `<svc>-<5 chars>`. */
export function endpointSliceObject(svc: ServiceInfo, eps: ServiceEndpoints, created: CreationTimes) {
  const byAddress = new Map<string, Endpoint>();
  for (const port of eps.ports) for (const e of port.endpoints) if (!byAddress.has(e.ip)) byAddress.set(e.ip, e);
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: meta('EndpointSlice', svc.namespace, `${svc.name}-${sliceSuffix(svc.uid)}`, svc.uid, created, {
      labels: { 'kubernetes.io/service-name': svc.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    }),
    addressType: 'IPv4',
    endpoints: [...byAddress.values()].map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.podName ? { targetRef: { kind: 'Pod', namespace: e.podNamespace, name: e.podName } } : {}),
    })),
    ports: eps.ports.map((p) => ({
      name: p.name,
      protocol: p.protocol,
      port: p.endpoints[0]?.port ?? null,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
  };
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function sliceSuffix(uid: string): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += SUFFIX_ALPHABET[(uid.charCodeAt((i * 3) % uid.length) + i) % SUFFIX_ALPHABET.length];
  return out;
}

export function serviceList(snapshot: Snapshot, items: readonly ServiceInfo[], created: CreationTimes) {
  return list(
    'ServiceList',
    'v1',
    items.map((s) => serviceObject(s, created)),
    snapshot.version,
  );
}

export function podList(snapshot: Snapshot, items: readonly PodInfo[], created: CreationTimes) {
  return list(
    'PodList',
    'v1',
    items.map((p) => podObject(p, created)),
    snapshot.version,
  );
}

export function nodeList(snapshot: Snapshot, items: readonly NodeInfo[], created: CreationTimes) {
  return list(
    'NodeList',
    'v1',
    items.map((n) => nodeObject(n, created)),
    snapshot.version,
  );
}

export function endpointSliceList(snapshot: Snapshot, items: readonly ServiceInfo[], created: CreationTimes) {
  const slices = [];
  for (const svc of items) {
    const eps = snapshot.endpoints.find((e) => e.serviceKey === `${svc.namespace}/${svc.name}`);
    if (eps && svc.type !== 'ExternalName') slices.push(endpointSliceObject(svc, eps, created));
  }
  return list('EndpointSliceList', 'discovery.k8s.io/v1', slices, snapshot.version);
}

/** networking.k8s.io/v1 Ingress with the address ingress-nginx publishes (its Service's LB IP). */
export function ingressObject(ing: Ingress, admitted: boolean, address: string | undefined, created: CreationTimes) {
  return {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('Ingress', ing.metadata.namespace, ing.metadata.name, ing.metadata.uid, created, {
      labels: ing.metadata.labels,
      annotations: ing.metadata.annotations,
    }),
    spec: {
      ...(ing.spec.ingressClassName ? { ingressClassName: ing.spec.ingressClassName } : {}),
      ...(ing.spec.defaultBackend ? { defaultBackend: ing.spec.defaultBackend } : {}),
      ...(ing.spec.tls.length ? { tls: ing.spec.tls } : {}),
      rules: ing.spec.rules.map((r) => ({ ...(r.host ? { host: r.host } : {}), http: { paths: r.paths } })),
    },
    status: { loadBalancer: admitted && address ? { ingress: [{ ip: address }] } : {} },
  };
}

export function ingressList(snapshot: Snapshot, items: readonly Ingress[], created: CreationTimes) {
  const address = publishedAddress(snapshot);
  const statuses = snapshot.ingress?.statuses ?? {};
  return list(
    'IngressList',
    'networking.k8s.io/v1',
    items.map((i) => ingressObject(i, statuses[`${i.metadata.namespace}/${i.metadata.name}`]?.admitted ?? false, address, created)),
    snapshot.version,
  );
}
