/**
 * Real containers of the pod's images (the container runtime, `docker compose up`): a pod
 * whose every container image matches aks-emu.yaml `containers.images` runs through the
 * node's container engine (container-pod.ts). Where the node has no engine the pod reports
 * kubelet's CreateContainerError instead of silently becoming an echo pod.
 */
import type { ImageContainer } from '../../cluster/snapshot.js';
import { imageMatches } from '../../config/workloads.js';
import type { Container, Manifests } from '../../model/types.js';
import { declaredEnv } from '../process/container-env.js';
import { registerPodKind } from './registry.js';

/** Kubernetes' default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_SECONDS = 30;

/** kubelet's default pull policy: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): ImageContainer['imagePullPolicy'] {
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function imageContainer(c: Container, namespace: string, manifests: Manifests): ImageContainer {
  const { env, error } = declaredEnv(c, namespace, manifests, {});
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: c.imagePullPolicy ?? defaultPullPolicy(c.image),
    ...(c.command === undefined ? {} : { command: c.command }),
    ...(c.args === undefined ? {} : { args: c.args }),
    ...(c.workingDir === undefined ? {} : { workingDir: c.workingDir }),
    env,
    ...(error === undefined ? {} : { configError: error }),
  };
}

registerPodKind({
  name: 'container',
  order: 20,
  choose: (pod, { config, manifests }) => {
    const wanted = config.containers;
    if (wanted === undefined || pod.spec.containers.length === 0) return undefined;
    if (!pod.spec.containers.every((c) => wanted.images.some((glob) => imageMatches(glob, c.image)))) return undefined;
    return {
      kind: 'container',
      containers: pod.spec.containers.map((c) => imageContainer(c, pod.namespace, manifests)),
      restartPolicy: pod.spec.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
      whenImageUnavailable: wanted.whenImageUnavailable,
    };
  },
  create: (pod, ctx) => {
    if (ctx.containers === undefined) throw new Error(`pod ${pod.namespace}/${pod.name}: node ${ctx.nodeName} has no container engine`);
    return ctx.containers.createPod(pod, ctx);
  },
});
