/**
 * What aks-emu's controllers write back to the object store after each snapshot, as the
 * Kubernetes controllers do: nodes, pods, ReplicaSets, EndpointSlices and Endpoints,
 * namespaces and the built-in objects (ingress-nginx), plus the status (and allocated
 * spec fields: clusterIP, nodePorts) of the objects users wrote.
 */
import { podTemplateHash } from '../../cluster/workload-pods.js';
import { deepFreeze } from '../../cluster/build-snapshot.js';
import type { PodInfo, ServiceInfo, Snapshot } from '../../cluster/snapshot.js';
import { isStoredFrom, objectKey, type Change, type KubeObject, type ObjectRef, type StoredEntry } from '../../cluster/store/index.js';
import type { Manifests, Workload } from '../../model/types.js';
import { publishedAddress } from '../../cluster/ingress/types.js';
import { endpointSliceObject, nodeObject, podObject, serviceObject, type CreationTimes } from '../kube-objects.js';
import { refOf, resourceOfKind } from './resources.js';
import { builtInGatewayClasses, GATEWAY_GROUP, gatewayStatusUpdates } from './gateway-status.js';

export interface MirrorInput {
  readonly snapshot: Snapshot;
  /** What the cluster runs: user objects plus the built-in ones. */
  readonly manifests: Manifests;
  readonly created: CreationTimes;
  readonly entries: readonly StoredEntry[];
}

const BUILT_IN_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

function refFor(object: KubeObject): ObjectRef {
  const r = resourceOfKind(object.apiVersion, object.kind)!;
  return refOf(r, object.metadata.namespace ?? '', object.metadata.name);
}

type Json = Record<string, unknown>;

/** Pods and ReplicationControllers are core (v1); the other controllers are apps/v1. */
function apiVersionOf(w: Workload): string {
  return w.kind === 'Pod' || w.kind === 'ReplicationController' ? 'v1' : 'apps/v1';
}

function workloadObject(w: Workload): KubeObject {
  const apiVersion = apiVersionOf(w);
  return {
    apiVersion,
    kind: w.kind,
    metadata: { name: w.metadata.name, namespace: w.metadata.namespace, uid: w.metadata.uid, labels: w.metadata.labels, annotations: w.metadata.annotations },
    spec: {
      replicas: w.replicas,
      // A ReplicationController's selector is a plain label map, the apps/v1 kinds' a LabelSelector.
      selector: w.kind === 'ReplicationController' ? w.selector : { matchLabels: w.selector },
      ...(w.serviceName === undefined ? {} : { serviceName: w.serviceName }),
      template: { metadata: { labels: w.template.labels, annotations: w.template.annotations }, spec: w.template.spec },
    },
  };
}

/** Pods by owner, once per snapshot: a lookup per workload, not a scan of every pod per workload. */
const podsByOwner = new WeakMap<Snapshot, Map<string, PodInfo[]>>();

function podsOf(snapshot: Snapshot, kind: PodInfo['ownerKind'], namespace: string, name: string): PodInfo[] {
  let index = podsByOwner.get(snapshot);
  if (index === undefined) {
    index = new Map();
    for (const p of snapshot.pods) {
      const key = JSON.stringify([p.ownerKind, p.namespace, p.ownerName]);
      const list = index.get(key);
      if (list) list.push(p);
      else index.set(key, [p]);
    }
    podsByOwner.set(snapshot, index);
  }
  return index.get(JSON.stringify([kind, namespace, name])) ?? [];
}

function replicaCounts(pods: readonly PodInfo[], desired: number, generation: unknown) {
  const ready = pods.filter((p) => p.phase === 'Running' && p.ready).length;
  return {
    observedGeneration: typeof generation === 'number' ? generation : 1,
    replicas: pods.length,
    ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
    desired,
    ready,
  };
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly lastUpdateTime: string;
  readonly lastTransitionTime: string;
}

/**
 * A Deployment condition keeps its times while it says the same thing, as the deployment
 * controller keeps them: lastTransitionTime moves when the status flips, lastUpdateTime
 * when the status, reason or message changes. (Stamping every snapshot's time on them
 * rewrote every Deployment, with a watch event each, on every change to the cluster.)
 */
function keptTimes(next: Condition, previous: unknown): Condition {
  const conditions = (previous as { conditions?: unknown } | undefined)?.conditions;
  const before = Array.isArray(conditions) ? (conditions as Partial<Condition>[]).find((c) => c.type === next.type) : undefined;
  if (before === undefined || before.status !== next.status || typeof before.lastTransitionTime !== 'string') return next;
  const same = before.reason === next.reason && before.message === next.message && typeof before.lastUpdateTime === 'string';
  return { ...next, lastTransitionTime: before.lastTransitionTime, ...(same ? { lastUpdateTime: before.lastUpdateTime! } : {}) };
}

/**
 * `pods`: the workload's own (ownPods); `at`: the snapshot's time; `previous`: the status
 * the store holds now (its conditions' times are kept while they hold).
 */
function workloadStatus(w: Workload, pods: readonly PodInfo[], at: string, generation: unknown, previous: unknown): Json {
  const { name } = w.metadata;
  switch (w.kind) {
    case 'Deployment': {
      const { desired, ready, ...counts } = replicaCounts(pods, w.replicas, generation);
      return {
        ...counts,
        updatedReplicas: pods.length,
        ...(desired - ready > 0 ? { unavailableReplicas: desired - ready } : {}),
        conditions: [
          {
            type: 'Available',
            status: ready >= desired ? 'True' : 'False',
            reason: ready >= desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            message: ready >= desired ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
            lastUpdateTime: at,
            lastTransitionTime: at,
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${name}-${podTemplateHash(w)}" has successfully progressed.`,
            lastUpdateTime: at,
            lastTransitionTime: at,
          },
        ].map((c) => keptTimes(c, previous)),
      };
    }
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController': {
      const { desired: _d, ready: _r, ...counts } = replicaCounts(pods, w.replicas, generation);
      return {
        ...counts,
        ...(w.kind === 'StatefulSet' ? { currentReplicas: counts.replicas, updatedReplicas: counts.replicas } : { fullyLabeledReplicas: counts.replicas }),
      };
    }
    case 'DaemonSet': {
      const ready = pods.filter((p) => p.phase === 'Running' && p.ready).length;
      return {
        observedGeneration: typeof generation === 'number' ? generation : 1,
        currentNumberScheduled: pods.length,
        desiredNumberScheduled: pods.length,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        updatedNumberScheduled: pods.length,
      };
    }
    case 'Pod':
      return {};
  }
}

/** `pods`: the Deployment's own, its ReplicaSet's (ownPods). */
function replicaSetOf(w: Workload, pods: readonly PodInfo[], deployment: KubeObject | undefined): KubeObject {
  const hash = podTemplateHash(w);
  const name = `${w.metadata.name}-${hash}`;
  const base = workloadObject(w);
  const { desired: _d, ready: _r, ...counts } = replicaCounts(pods, w.replicas, 1);
  const spec = base['spec'] as Json;
  const template = spec['template'] as Json;
  const templateMeta = template['metadata'] as Json;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: w.metadata.namespace,
      labels: { ...w.template.labels, 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/desired-replicas': String(w.replicas) },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: w.metadata.name,
          uid: deployment?.metadata.uid ?? w.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: { ...w.selector, 'pod-template-hash': hash } },
      template: { ...template, metadata: { ...templateMeta, labels: { ...w.template.labels, 'pod-template-hash': hash } } },
    },
    status: { ...counts, fullyLabeledReplicas: counts.replicas },
  };
}

/** Endpoints by Service key, once per snapshot: a lookup per Service, not a scan of every Service's endpoints. */
const endpointsByService = new WeakMap<Snapshot, Map<string, Snapshot['endpoints'][number]>>();

function serviceEndpointsOf(snapshot: Snapshot, namespace: string, name: string): Snapshot['endpoints'][number] | undefined {
  let index = endpointsByService.get(snapshot);
  if (index === undefined) {
    index = new Map();
    // The first of a key wins, as find() did.
    for (const e of snapshot.endpoints) if (!index.has(e.serviceKey)) index.set(e.serviceKey, e);
    endpointsByService.set(snapshot, index);
  }
  return index.get(`${namespace}/${name}`);
}

function endpointsOf(svc: ServiceInfo, eps: Snapshot['endpoints'][number], created: CreationTimes): KubeObject {
  const all = eps.ports.flatMap((p) => p.endpoints);
  const address = (e: (typeof all)[number]) => ({
    ip: e.ip,
    ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    ...(e.podName ? { targetRef: { kind: 'Pod', namespace: e.podNamespace, name: e.podName } } : {}),
  });
  const unique = <T extends { ip: string }>(xs: T[]) => [...new Map(xs.map((x) => [x.ip, x])).values()];
  const ready = unique(all.filter((e) => e.ready).map(address));
  const notReady = unique(all.filter((e) => !e.ready).map(address)).filter((a) => !ready.some((r) => r.ip === a.ip));
  const subsets =
    ready.length + notReady.length === 0
      ? []
      : [
          {
            ...(ready.length ? { addresses: ready } : {}),
            ...(notReady.length ? { notReadyAddresses: notReady } : {}),
            ports: eps.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.endpoints[0]?.port ?? 0, protocol: p.protocol })),
          },
        ];
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.name, namespace: svc.namespace, labels: svc.labels, creationTimestamp: created('Service', `${svc.namespace}/${svc.name}`) },
    subsets,
  };
}

/** The allocated fields a user did not write (clusterIP, nodePorts) and the status. */
function serviceWithAllocation(user: KubeObject, info: ServiceInfo): KubeObject {
  const spec = { ...((user['spec'] as Json | undefined) ?? {}) };
  if (info.clusterIP) {
    spec['clusterIP'] = info.clusterIP;
    spec['clusterIPs'] = [info.clusterIP];
  }
  if (Array.isArray(spec['ports'])) {
    spec['ports'] = (spec['ports'] as Json[]).map((p) => {
      const found = info.ports.find((x) => x.port === p['port'] && x.protocol === (p['protocol'] ?? 'TCP'));
      return {
        ...p,
        protocol: p['protocol'] ?? 'TCP',
        targetPort: p['targetPort'] ?? p['port'],
        ...(found?.nodePort !== undefined ? { nodePort: found.nodePort } : {}),
      };
    });
  }
  spec['type'] ??= 'ClusterIP';
  if (spec['type'] !== 'ExternalName') {
    spec['ipFamilies'] ??= ['IPv4'];
    spec['ipFamilyPolicy'] ??= 'SingleStack';
  }
  spec['sessionAffinity'] ??= 'None';
  const status = info.loadBalancer?.ip ? { loadBalancer: { ingress: [{ ip: info.loadBalancer.ip, ipMode: 'VIP' }] } } : { loadBalancer: {} };
  return { ...user, spec, status };
}

/** status.hostIP: the node's address (`nodeAddress`), as kubectl describe shows after `Node: name/`. */
function withHostIP(status: unknown, pod: PodInfo, nodeAddress: string | undefined): unknown {
  if (pod.phase !== 'Running' || nodeAddress === undefined) return status;
  return { ...(status as Json), hostIP: nodeAddress, hostIPs: [{ ip: nodeAddress }] };
}

/**
 * An object the controllers write, kept per input object (a snapshot item, a stored
 * object) while its other inputs are the same values: a snapshot built on the previous one
 * hands an unchanged pod, Service or endpoints entry over as the same object, and then the
 * same frozen object goes to the store, which sees that it put that object last time and
 * compares nothing.
 */
class Kept<K extends object, V extends object = KubeObject> {
  readonly #kept = new WeakMap<K, { readonly inputs: readonly unknown[]; readonly object: V }>();

  get(key: K, inputs: readonly unknown[], make: () => V): V {
    const kept = this.#kept.get(key);
    if (kept !== undefined && kept.inputs.length === inputs.length && kept.inputs.every((v, i) => v === inputs[i])) return kept.object;
    const object = deepFreeze(make());
    this.#kept.set(key, { inputs, object });
    return object;
  }
}

const controllerPods = new Kept<PodInfo>();
/** A Service's EndpointSlice and Endpoints, per endpoints entry and Service. */
const endpointSlices = new Kept<Snapshot['endpoints'][number]>();
const legacyEndpoints = new Kept<Snapshot['endpoints'][number]>();
/** A Service aks-emu itself runs (the ingress controller's), per Service. */
const controllerServices = new Kept<ServiceInfo>();
/** A user's Service with its allocated fields and status, per stored object and Service. */
const allocatedServices = new Kept<KubeObject>();
/** A workload's status, its object with that status and a Deployment's ReplicaSet, per workload (the manifests layer hands an unchanged object over as the same one). */
const workloadStatuses = new Kept<Workload, Json>();
const controllerWorkloads = new Kept<Workload>();
const replicaSets = new Kept<Workload>();
/** A user's workload with its status, per stored object and status. */
const userWorkloads = new Kept<KubeObject>();

/** The pods a workload's status counts: a Deployment's are its ReplicaSet's. */
function ownPods(w: Workload, snapshot: Snapshot): PodInfo[] {
  const { namespace, name } = w.metadata;
  switch (w.kind) {
    case 'Deployment':
      return podsOf(snapshot, 'ReplicaSet', namespace, `${name}-${podTemplateHash(w)}`);
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'DaemonSet':
      return podsOf(snapshot, w.kind, namespace, name);
    case 'Pod':
      return [];
  }
}

function controllerPod(p: PodInfo, created: CreationTimes, nodeAddress: string | undefined): KubeObject {
  return controllerPods.get(p, [created('Pod', `${p.namespace}/${p.name}`), nodeAddress], () => {
    const object = podObject(p, created) as unknown as KubeObject;
    return { ...object, status: withHostIP(object['status'], p, nodeAddress) };
  });
}

/** Every change that brings the store in line with the snapshot (none when it already is). */
export function mirrorChanges(input: MirrorInput): Change[] {
  const { snapshot, manifests, created } = input;
  const user = new Map<string, StoredEntry>();
  for (const e of input.entries) if (e.owner === 'user') user.set(objectKey(e.ref), e);
  const wanted = new Map<string, { ref: ObjectRef; object: KubeObject; owner: 'user' | 'controller' }>();
  const put = (object: KubeObject) => {
    const ref = refFor(object);
    const key = objectKey(ref);
    const mine = user.get(key);
    if (mine) return;
    wanted.set(key, { ref, object, owner: 'controller' });
  };
  const putStatus = (entry: StoredEntry, object: KubeObject) => wanted.set(objectKey(entry.ref), { ref: entry.ref, object, owner: 'user' });
  const userEntry = (apiVersion: string, kind: string, namespace: string, name: string) => {
    const r = resourceOfKind(apiVersion, kind)!;
    return user.get(objectKey(refOf(r, namespace, name)));
  };
  const controller = new Map<string, StoredEntry>();
  for (const e of input.entries) if (e.owner === 'controller' && e.ref.kind === 'Deployment') controller.set(objectKey(e.ref), e);
  const controllerEntry = (apiVersion: string, kind: string, namespace: string, name: string) =>
    controller.get(objectKey(refOf(resourceOfKind(apiVersion, kind)!, namespace, name)));

  for (const n of snapshot.nodes) put(nodeObject(n, created));
  const namespaces = new Set(BUILT_IN_NAMESPACES);
  for (const e of input.entries) if (e.ref.namespace) namespaces.add(e.ref.namespace);
  for (const s of snapshot.services) namespaces.add(s.namespace);
  for (const ns of namespaces) {
    const mine = userEntry('v1', 'Namespace', '', ns);
    const status = { phase: 'Active' };
    if (mine) putStatus(mine, { ...mine.object, spec: { finalizers: ['kubernetes'] }, status });
    else
      put({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        spec: { finalizers: ['kubernetes'] },
        status,
      });
  }
  const nodeAddresses = new Map(snapshot.nodes.map((n) => [n.name, n.address]));
  for (const p of snapshot.pods) {
    const mine = userEntry('v1', 'Pod', p.namespace, p.name);
    if (mine) {
      const object = podObject(p, created) as unknown as KubeObject;
      const spec = { ...(mine.object['spec'] as Json), ...((object['spec'] as Json)['nodeName'] ? { nodeName: (object['spec'] as Json)['nodeName'] } : {}) };
      putStatus(mine, { ...mine.object, spec, status: withHostIP(object['status'], p, nodeAddresses.get(p.nodeName)) });
    } else put(controllerPod(p, created, nodeAddresses.get(p.nodeName)));
  }
  for (const s of snapshot.services) {
    const mine = userEntry('v1', 'Service', s.namespace, s.name);
    if (mine)
      putStatus(
        mine,
        allocatedServices.get(mine.object, [s], () => serviceWithAllocation(mine.object, s)),
      );
    else put(controllerServices.get(s, [created('Service', `${s.namespace}/${s.name}`)], () => serviceObject(s, created) as unknown as KubeObject));
    if (s.selector && s.type !== 'ExternalName') {
      const eps = serviceEndpointsOf(snapshot, s.namespace, s.name);
      if (eps) {
        const times = [s, created('EndpointSlice', `${s.namespace}/${s.name}`), created('Service', `${s.namespace}/${s.name}`)];
        put(endpointSlices.get(eps, times, () => endpointSliceObject(s, eps, created) as unknown as KubeObject));
        put(legacyEndpoints.get(eps, times, () => endpointsOf(s, eps, created)));
      }
    }
  }
  for (const w of manifests.workloads) {
    if (w.kind === 'Pod') continue;
    const mine = userEntry(apiVersionOf(w), w.kind, w.metadata.namespace, w.metadata.name);
    const stored = mine ?? controllerEntry(apiVersionOf(w), w.kind, w.metadata.namespace, w.metadata.name);
    // A status depends on the workload, its generation, its pods and the status it replaces
    // (whose condition times it keeps); with none to replace, on the snapshot's time too.
    const pods = ownPods(w, snapshot);
    const generation = mine?.object.metadata.generation;
    const previous = stored?.object['status'];
    const status = workloadStatuses.get(w, [generation, previous, previous === undefined ? snapshot.generatedAt : undefined, ...pods], () =>
      workloadStatus(w, pods, snapshot.generatedAt, generation, previous),
    );
    if (mine)
      putStatus(
        mine,
        userWorkloads.get(mine.object, [status], () => ({ ...mine.object, status })),
      );
    else put(controllerWorkloads.get(w, [status], () => ({ ...workloadObject(w), status })));
    if (w.kind === 'Deployment') put(replicaSets.get(w, [mine?.object.metadata.uid, ...pods], () => replicaSetOf(w, pods, mine?.object)));
  }
  const statuses = snapshot.ingress?.statuses ?? {};
  const ip = publishedAddress(snapshot);
  for (const ing of manifests.ingresses) {
    const mine = userEntry('networking.k8s.io/v1', 'Ingress', ing.metadata.namespace, ing.metadata.name);
    if (!mine) continue;
    const admitted = statuses[`${ing.metadata.namespace}/${ing.metadata.name}`]?.admitted ?? false;
    putStatus(mine, { ...mine.object, status: { loadBalancer: admitted && ip ? { ingress: [{ ip }] } : {} } });
  }
  for (const c of manifests.ingressClasses) {
    put({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: c.metadata.name, labels: c.metadata.labels, annotations: c.metadata.annotations },
      spec: { controller: c.spec.controller },
    });
  }
  for (const { entry, object } of gatewayStatusUpdates(user.values(), snapshot.gateway)) putStatus(entry, object);
  const userClasses = new Set([...user.values()].filter((e) => e.ref.group === GATEWAY_GROUP && e.ref.kind === 'GatewayClass').map((e) => e.ref.name));
  const controllerClass = (name: string) =>
    input.entries.find((e) => e.owner === 'controller' && e.ref.group === GATEWAY_GROUP && e.ref.kind === 'GatewayClass' && e.ref.name === name)?.object;
  for (const c of builtInGatewayClasses(userClasses, snapshot.gateway, controllerClass)) put(c);

  const stored = new Map<string, StoredEntry>();
  for (const e of input.entries) stored.set(objectKey(e.ref), e);
  const changes: Change[] = [];
  for (const [key, w] of wanted) {
    // The object the store was given last time by the same owner (a kept one): the store would
    // skip the put, so it is not made (at 1,000 Services, 8,000 puts per snapshot were).
    const s = stored.get(key);
    if (s !== undefined && s.owner === w.owner && isStoredFrom(s.object, w.object)) continue;
    changes.push({ op: 'put', ref: w.ref, owner: w.owner, object: w.object, status: true });
  }
  for (const [key, e] of stored) {
    if (e.owner === 'controller' && !wanted.has(key) && e.ref.kind !== 'Event') changes.push({ op: 'delete', ref: e.ref });
  }
  return changes;
}
