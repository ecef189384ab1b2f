/**
 * The pods each workload asks for, named as the Kubernetes controllers name them:
 * Deployment → ReplicaSet `<deploy>-<pod-template-hash>` → pods `<rs>-<5 chars>`,
 * StatefulSet `<name>-<ordinal>`, DaemonSet `<ds>-<5 chars>` on every eligible node,
 * and a bare Pod as itself. The random parts are hashes, so names are stable.
 */
import type { Manifests, PodSpec, Workload, WorkloadKind } from '../model/types.js';
import { safeEncode, stableUid } from './hash.js';
import { selectorMatches } from './labels.js';
import type { NodeSpec } from './nodes.js';
import type { PodInfo } from './snapshot.js';

/** A pod before placement: what its controller would create. */
export interface DesiredPod extends Pick<PodInfo, 'namespace' | 'name' | 'uid' | 'labels' | 'annotations' | 'ownerKind' | 'ownerName' | 'source'> {
  readonly spec: PodSpec;
  /** DaemonSet pods are bound to their node by the controller, not by the scheduler. */
  readonly boundNode?: string;
}

/** Per workload object: each snapshot and each write-back asks again for every Deployment. */
const templateHashes = new WeakMap<Workload, string>();

/** pod-template-hash: changes with the template, as a new ReplicaSet does on a rollout. */
export function podTemplateHash(workload: Workload): string {
  let hash = templateHashes.get(workload);
  if (hash === undefined) {
    hash = safeEncode(`${workload.metadata.namespace}/${workload.metadata.name}\n${JSON.stringify(workload.template)}`, 10);
    templateHashes.set(workload, hash);
  }
  return hash;
}

function podOf(
  workload: Workload,
  name: string,
  owner: { kind: WorkloadKind; name: string },
  extraLabels: Record<string, string> = {},
  boundNode?: string,
): DesiredPod {
  const { namespace } = workload.metadata;
  return {
    namespace,
    name,
    uid: workload.kind === 'Pod' ? workload.metadata.uid : stableUid(`${workload.metadata.uid}/${namespace}/${name}`),
    labels: { ...workload.template.labels, ...extraLabels },
    annotations: workload.template.annotations,
    ownerKind: owner.kind,
    ownerName: owner.name,
    spec: workload.template.spec,
    source: workload.source,
    ...(boundNode === undefined ? {} : { boundNode }),
  };
}

/** `<prefix>-<5 chars>`, rehashed on the (unlikely) clash with a name already taken. */
function generatedName(prefix: string, seed: string, taken: Set<string>): string {
  for (let attempt = 0; ; attempt++) {
    const name = `${prefix}-${safeEncode(`${seed}#${attempt}`, 5)}`;
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

function podsOfWorkload(workload: Workload, nodes: readonly NodeSpec[], evicted: ReadonlySet<string>): DesiredPod[] {
  const { name, namespace } = workload.metadata;
  // An evicted pod's name stays taken: its controller's replacement gets the next name.
  const taken = new Set<string>([...evicted].filter((key) => key.startsWith(`${namespace}/`)).map((key) => key.slice(namespace.length + 1)));
  const range = Array.from({ length: Math.max(0, workload.replicas) }, (_, i) => i);
  switch (workload.kind) {
    case 'Pod':
      return [podOf(workload, name, { kind: 'Pod', name })];
    case 'Deployment': {
      const hash = podTemplateHash(workload);
      const rs = `${name}-${hash}`;
      return range.map((i) => podOf(workload, generatedName(rs, `${rs}/${i}`, taken), { kind: 'ReplicaSet', name: rs }, { 'pod-template-hash': hash }));
    }
    case 'ReplicaSet':
    case 'ReplicationController':
      return range.map((i) => podOf(workload, generatedName(name, `${name}/${i}`, taken), { kind: workload.kind, name }));
    case 'StatefulSet':
      return range.map((i) => {
        const pod = podOf(
          workload,
          `${name}-${i}`,
          { kind: 'StatefulSet', name },
          {
            'apps.kubernetes.io/pod-index': String(i),
            'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
          },
        );
        // The StatefulSet controller names each pod's host after the pod, in the governing Service's subdomain.
        const subdomain = workload.serviceName === undefined ? {} : { subdomain: workload.serviceName };
        return { ...pod, spec: { ...pod.spec, hostname: `${name}-${i}`, ...subdomain } };
      });
    case 'DaemonSet':
      return nodes
        .filter((node) => selectorMatches(workload.template.spec.nodeSelector, node.labels))
        .filter((node) => workload.template.spec.nodeName === undefined || workload.template.spec.nodeName === node.name)
        .map((node) => podOf(workload, generatedName(name, `${name}/${node.name}`, taken), { kind: 'DaemonSet', name }, {}, node.name));
  }
}

/** Every pod the manifests ask for, in manifest order. */
export function desiredPods(manifests: Pick<Manifests, 'workloads'>, nodes: readonly NodeSpec[], evictedPods: readonly string[] = []): DesiredPod[] {
  const evicted = new Set(evictedPods);
  return manifests.workloads.flatMap((w) => podsOfWorkload(w, nodes, evicted));
}
