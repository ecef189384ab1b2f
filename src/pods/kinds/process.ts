/**
 * The `process` kind: a pod with a container whose image a `workloads:` mapping matches
 * (aks-emu.yaml, --workload, startCluster({ workloads })). The choice carries each matched
 * container's command, directory and the environment its manifest declares, ConfigMap and
 * Secret values resolved, so a runtime needs nothing but the snapshot to start it.
 */
import type { ProcessContainer } from '../../cluster/snapshot.js';
import { imageMatches } from '../../config/workloads.js';
import { declaredEnv } from '../process/container-env.js';
import { createProcessPod } from '../process/process-pod.js';
import { registerPodKind } from './registry.js';

registerPodKind({
  name: 'process',
  order: 10,
  choose: (pod, { config, manifests }) => {
    const mappings = config.workloads ?? [];
    if (mappings.length === 0) return undefined;
    const containers: ProcessContainer[] = [];
    for (const container of pod.spec.containers) {
      const mapping = mappings.find((m) => imageMatches(m.image, container.image));
      if (mapping === undefined) continue;
      const { env, error } = declaredEnv(container, pod.namespace, manifests, mapping.env);
      containers.push({ name: container.name, command: mapping.command, cwd: mapping.cwd, env, ...(error !== undefined ? { configError: error } : {}) });
    }
    return containers.length === 0 ? undefined : { kind: 'process', containers };
  },
  create: (pod, ctx) => createProcessPod(pod, ctx),
});
