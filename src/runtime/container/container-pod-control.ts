/**
 * `aks-emu logs` and `aks-emu pod kill` for container pods, answered by control from the
 * Docker engine (compose mounts its socket into control too): a pod's containers carry
 * its labels (container-host.ts), one engine container per restart, the one before kept,
 * so the highest restart number is the current instance and the next one `--previous`.
 */
import { AksEmuError } from '../../errors/index.js';
import { CONTAINER_LABEL, POD_LABEL, RESTART_LABEL } from './container-host.js';
import type { ContainerSummary, DockerEngine } from './docker-engine.js';

export class ContainerPodControl {
  constructor(private readonly engine: DockerEngine) {}

  /** kubectl logs [--previous] POD [-c CONTAINER]: the engine's log of that instance. */
  async logs(namespace: string, name: string, container: string, previous: boolean): Promise<string> {
    const instances = await this.#instances(namespace, name, container);
    const instance = instances[previous ? 1 : 0];
    if (instance === undefined) {
      throw new AksEmuError(
        'AKS_EMU_USAGE',
        previous ? `previous terminated container "${container}" in pod "${name}" not found` : `container "${container}" in pod "${name}" is waiting to start`,
      );
    }
    const lines = await this.engine.logs(instance.Id);
    return lines.map((l) => `${l.text}\n`).join('');
  }

  /** Kills every running container of the pod, as a crash: its node restarts them per restartPolicy. */
  async crash(namespace: string, name: string): Promise<void> {
    const running = (await this.engine.listContainers({ [POD_LABEL]: `${namespace}.${name}` })).filter(
      (c) => c.State === 'running' && c.Labels[CONTAINER_LABEL] !== 'POD',
    );
    if (running.length === 0)
      throw new AksEmuError('AKS_EMU_USAGE', `pod ${namespace}/${name}: no container is running (it may be waiting in CrashLoopBackOff or ImagePullBackOff)`);
    for (const c of running) await this.engine.killContainer(c.Id);
  }

  /** Newest first. */
  async #instances(namespace: string, name: string, container: string): Promise<ContainerSummary[]> {
    const found = await this.engine.listContainers({ [POD_LABEL]: `${namespace}.${name}`, [CONTAINER_LABEL]: container });
    return found.sort((a, b) => Number(b.Labels[RESTART_LABEL] ?? 0) - Number(a.Labels[RESTART_LABEL] ?? 0));
  }
}
