/**
 * The `container` pod kind: a pod whose containers run as real containers of a container
 * engine (Docker), the way kubelet runs them through a CRI. A sandbox container holds the
 * pod's network namespace (kubelet's pause container): it owns the pod IP on the node's
 * pod network, routes everything through the node (no route leaves the emulated
 * networks), and writes the pod's resolv.conf (cluster DNS and the namespace search
 * path). Each of the pod's containers then joins that namespace, so they share the IP,
 * localhost and the hostname (the pod name), as in Kubernetes.
 *
 * Per container: the image is checked and pulled as imagePullPolicy says (ErrImagePull,
 * then ImagePullBackOff between attempts), created with the command, args, env and
 * workingDir Kubernetes would pass, started, and waited on; an exit restarts it under the
 * pod's restartPolicy with kubelet's back-off (CrashLoopBackOff while waiting). A new
 * engine container is made per restart and the previous one is kept for `logs --previous`.
 */
import { EventEmitter } from 'node:events';

import type { ContainerState, ContainerStatusInfo, ImageContainer, PodInfo } from '../cluster/snapshot.js';
import { realClock, type Clock } from '../dataplane/clock.js';
import type { PodRuntime } from './pod-runtime.js';
import { BACKOFF_INITIAL_S, BACKOFF_MAX_S, CrashBackoff } from './process/backoff.js';
import { LivenessWorker } from './process/liveness.js';
import { startSandbox } from './container-sandbox.js';

/** The engine calls the kind needs; src/runtime/container/docker-engine.ts implements them. */
export interface ContainerEngine {
  imageExists(image: string): Promise<boolean>;
  pullImage(image: string): Promise<void>;
  createContainer(spec: {
    name: string;
    Image: string;
    Entrypoint?: readonly string[] | null;
    Cmd?: readonly string[] | null;
    Env?: readonly string[];
    WorkingDir?: string;
    Hostname?: string;
    Labels?: Readonly<Record<string, string>>;
    HostConfig?: { NetworkMode?: string; CapAdd?: readonly string[] };
    NetworkingConfig?: { EndpointsConfig: Readonly<Record<string, { IPAMConfig?: { IPv4Address: string } }>> };
  }): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  killContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  waitContainer(id: string): Promise<number>;
  logs(id: string, options?: { tail?: number }): Promise<readonly { stream: string; text: string }[]>;
}

/** What one of the pod's containers runs: the pod spec's fields, env resolved at this start. */
export interface ContainerLaunch extends ImageContainer {
  readonly env: readonly { readonly name: string; readonly value: string }[];
}

export interface ContainerPodOptions {
  readonly engine: ContainerEngine;
  readonly containers: readonly ContainerLaunch[];
  readonly restartPolicy: 'Always' | 'OnFailure' | 'Never';
  readonly terminationGracePeriodSeconds: number;
  /** The image of the sandbox: it needs `sh` and `ip` (the aks-emu image has both). */
  readonly sandboxImage: string;
  /** The engine's network for this node's pods, and the node's address on it (the pods' gateway). */
  readonly network: string;
  readonly gateway: string;
  readonly resolvConf: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly timeScale: number;
  readonly log?: (line: string) => void;
  /** Called after each status change (kubelet's status manager). */
  readonly onStatus?: () => void;
  /** aks-emu.yaml containers.whenImageUnavailable `echo`: what runs in place of an image that cannot be had. */
  readonly inPlaceOfMissingImage?: (launch: ContainerLaunch) => ContainerLaunch;
  /** Where kubelet's liveness probes come from (the node's address). */
  readonly probeSource?: string;
  /** The pod's NetworkPolicy ruleset as the sandbox starts (an `nft -f` text), and the sandbox labels to mark it with. */
  readonly firewall?: () => { readonly ruleset: string; readonly labels: Readonly<Record<string, string>> };
  readonly clock?: Clock;
}

interface ContainerPodEvents {
  status: [];
}

/** Labels on each engine container: the pod's container name (POD for the sandbox) and the instance's restart count. */
export const CONTAINER_LABEL = 'io.aks-emu.container';
export const RESTART_LABEL = 'io.aks-emu.restart';

/** Scaled back-offs never go under this, so a failing pull or create cannot spin. */
const MIN_BACKOFF_MS = 100;

/** kubelet's image pull back-off: the crash back-off's 10 s doubling to 5 min, from the first failure on. */
export function pullBackoffMs(failures: number, timeScale: number): number {
  const seconds = Math.min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** Math.max(0, failures - 1));
  return Math.max(MIN_BACKOFF_MS, seconds * 1000 * timeScale);
}

/** Docker container names allow [a-zA-Z0-9_.-]; Kubernetes names are already within that. */
function engineName(parts: readonly string[]): string {
  return parts.join('_').replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/**
 * kubelet's command line: `command` replaces ENTRYPOINT and then the image's CMD is
 * dropped unless `args` is given; `args` alone keeps ENTRYPOINT and replaces CMD.
 */
export function entrypointAndCmd(launch: ContainerLaunch): { Entrypoint?: readonly string[]; Cmd?: readonly string[] | null } {
  if (launch.command !== undefined) return { Entrypoint: launch.command, Cmd: launch.args ?? null };
  if (launch.args !== undefined) return { Cmd: launch.args };
  return {};
}

class ContainerSlot {
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState | undefined;
  restartCount = 0;
  failures = 0;
  pullFailures = 0;
  readonly backoff: CrashBackoff;
  id: string | undefined;
  previousId: string | undefined;
  liveness: LivenessWorker | undefined;
  timer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;

  constructor(
    public launch: ContainerLaunch,
    timeScale: number,
  ) {
    this.backoff = new CrashBackoff(timeScale);
  }

  view(): ContainerStatusInfo {
    const running = 'running' in this.state;
    return {
      name: this.launch.name,
      image: this.launch.image,
      state: this.state,
      // Readiness probes are the node's prober's; a running container is ready as far as kubelet's status goes.
      ready: running,
      started: running,
      ...(this.lastState === undefined ? {} : { lastState: this.lastState }),
      restartCount: this.restartCount,
      ...(this.id === undefined ? {} : { containerID: `docker://${this.id}` }),
    };
  }
}

export class ContainerPod extends EventEmitter<ContainerPodEvents> implements PodRuntime {
  #pod: PodInfo;
  readonly #options: ContainerPodOptions;
  readonly #slots: ContainerSlot[];
  readonly #log: (line: string) => void;
  #sandboxId: string | undefined;
  #stopping = false;
  readonly #loops: Promise<void>[] = [];

  constructor(pod: PodInfo, options: ContainerPodOptions) {
    super();
    this.#pod = pod;
    this.#options = options;
    this.#slots = options.containers.map((c) => new ContainerSlot(c, options.timeScale));
    this.#log = options.log ?? (() => {});
  }

  get pod(): PodInfo {
    return this.#pod;
  }

  get key(): string {
    return `${this.#pod.namespace}/${this.#pod.name}`;
  }

  /** Per container, what kubelet would report. */
  containerStatuses(): ContainerStatusInfo[] {
    return this.#slots.map((s) => s.view());
  }

  /** Kills every running container at once, as a crash would; each restarts per restartPolicy. */
  crash(): boolean {
    const running = this.#slots.filter((s) => s.id !== undefined && 'running' in s.state);
    for (const slot of running) {
      this.#options.engine.killContainer(slot.id!).catch((err: Error) => this.#log(`pod ${this.key}: kill: ${err.message}`));
    }
    return running.length > 0;
  }

  /** The engine container of `container` (or the pod's first), or the one before it for `previous`. */
  containerId(container: string | undefined, previous: boolean): string | undefined {
    const slot = container === undefined ? this.#slots[0] : this.#slots.find((s) => s.launch.name === container);
    return previous ? slot?.previousId : slot?.id;
  }

  /** The engine's log of a container (the current instance, or the one before it). */
  async engineLogs(container: string | undefined, previous: boolean, tail?: number): Promise<string[]> {
    const id = this.containerId(container, previous);
    if (id === undefined) return [];
    return (await this.#options.engine.logs(id, tail === undefined ? {} : { tail })).map((l) => l.text);
  }

  /** Creates the sandbox, then runs each container in its own loop (pull, create, start, wait, back-off). */
  async start(): Promise<void> {
    await this.#startSandbox();
    for (const slot of this.#slots) this.#loops.push(this.#run(slot));
  }

  /** SIGTERM to every container, SIGKILL after terminationGracePeriodSeconds; then the sandbox goes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const { engine } = this.#options;
    const grace = this.#options.terminationGracePeriodSeconds;
    for (const slot of this.#slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.liveness?.stop();
      slot.wake?.();
    }
    await Promise.allSettled(this.#slots.map(async (slot) => (slot.id === undefined ? undefined : engine.stopContainer(slot.id, grace))));
    await Promise.allSettled(this.#loops);
    const ids = this.#slots.flatMap((s) => [s.id, s.previousId]).filter((id): id is string => id !== undefined);
    if (this.#sandboxId !== undefined) ids.push(this.#sandboxId);
    const removed = await Promise.allSettled(ids.map((id) => engine.removeContainer(id)));
    for (const r of removed) if (r.status === 'rejected') this.#log(`pod ${this.key}: ${(r.reason as Error).message}`);
  }

  /** Forced readiness is applied by the control plane; a real container's endpoints are its own. */
  setHealthy(): void {}

  update(pod: PodInfo): void {
    this.#pod = pod;
  }

  async #startSandbox(): Promise<void> {
    const { engine, network, gateway, resolvConf, labels, sandboxImage } = this.#options;
    const firewall = this.#options.firewall?.();
    this.#sandboxId = await startSandbox(engine, this.#pod, {
      name: engineName(['k8s', 'POD', this.#pod.name, this.#pod.namespace, this.#pod.uid.slice(0, 8), '0']),
      image: sandboxImage,
      network,
      gateway,
      resolvConf,
      labels: { ...labels, ...firewall?.labels, [CONTAINER_LABEL]: 'POD' },
      ...(firewall === undefined ? {} : { firewall: firewall.ruleset }),
    });
  }

  #set(slot: ContainerSlot, state: ContainerState): void {
    slot.state = state;
    this.emit('status');
    this.#options.onStatus?.();
  }

  /** Waits `ms`, or less when the pod stops. */
  #sleep(slot: ContainerSlot, ms: number): Promise<void> {
    return new Promise((resolve) => {
      slot.wake = () => {
        slot.wake = undefined;
        resolve();
      };
      slot.timer = setTimeout(() => slot.wake?.(), ms);
    });
  }

  /**
   * kubelet's liveness worker for httpGet and tcpSocket probes (to the pod IP from the node);
   * failureThreshold failures stop the container with its grace period, and it restarts.
   * An exec liveness probe would have to run inside the container: not run here (noted once).
   */
  #livenessFor(slot: ContainerSlot): LivenessWorker | undefined {
    if (slot.liveness !== undefined) return slot.liveness;
    const container = this.#pod.containers.find((c) => c.name === slot.launch.name);
    const spec = container?.livenessProbe;
    if (container === undefined || spec === undefined) return undefined;
    if (spec.exec !== undefined) {
      this.#log(`pod ${this.key} container ${container.name}: exec liveness probes do not run against containers here; the probe is ignored`);
      return undefined;
    }
    slot.liveness = new LivenessWorker({
      pod: this.#pod,
      container,
      spec,
      clock: this.#options.clock ?? realClock,
      timeScale: this.#options.timeScale,
      sourceAddress: this.#options.probeSource,
      cwd: '/',
      env: () => ({}),
      onFailure: (message) => {
        this.#log(`pod ${this.key}: Container ${container.name} failed liveness probe, will be restarted: ${message}`);
        if (slot.id !== undefined) {
          this.#options.engine
            .stopContainer(slot.id, this.#options.terminationGracePeriodSeconds)
            .catch((err: Error) => this.#log(`pod ${this.key}: stop: ${err.message}`));
        }
      },
    });
    return slot.liveness;
  }

  async #ensureImage(slot: ContainerSlot): Promise<boolean> {
    const { engine, timeScale } = this.#options;
    for (;;) {
      if (this.#stopping) return false;
      // Read each time: the echo pod may have taken the image's place.
      const { image, imagePullPolicy } = slot.launch;
      try {
        const present = imagePullPolicy !== 'Always' && (await engine.imageExists(image));
        if (present) return true;
        if (imagePullPolicy === 'Never') {
          this.#set(slot, { waiting: { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` } });
        } else {
          this.#set(slot, { waiting: { reason: 'ContainerCreating', message: `Pulling image "${image}"` } });
          await engine.pullImage(image);
          slot.pullFailures = 0;
          return true;
        }
      } catch (err) {
        slot.pullFailures++;
        const message = `Failed to pull image "${image}": ${(err as Error).message}`;
        this.#log(`pod ${this.key}: ${message}`);
        const replacement = this.#options.inPlaceOfMissingImage;
        if (replacement !== undefined) {
          slot.launch = replacement(slot.launch);
          this.#log(
            `pod ${this.key} container ${slot.launch.name}: the built-in echo pod serves in place of "${image}" (containers.whenImageUnavailable: echo)`,
          );
          continue;
        }
        this.#set(slot, { waiting: { reason: 'ErrImagePull', message } });
      }
      const wait = pullBackoffMs(Math.max(1, slot.pullFailures), timeScale);
      // ErrImagePull is shown for a moment, then ImagePullBackOff until the next attempt (as kubelet's syncs do).
      await this.#sleep(slot, Math.min(wait, BACKOFF_INITIAL_S * 1000 * timeScale) / 2);
      if (this.#stopping) return false;
      if (slot.state !== undefined && 'waiting' in slot.state && slot.state.waiting.reason === 'ErrImagePull') {
        this.#set(slot, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } });
      }
      await this.#sleep(slot, wait);
    }
  }

  async #run(slot: ContainerSlot): Promise<void> {
    const { engine, labels, restartPolicy, timeScale } = this.#options;
    const pod = this.#pod;
    if (slot.launch.configError !== undefined) {
      this.#set(slot, { waiting: { reason: 'CreateContainerConfigError', message: slot.launch.configError } });
      return;
    }
    while (!this.#stopping) {
      if (!(await this.#ensureImage(slot))) return;
      let startedAt = Date.now();
      try {
        const id = await engine.createContainer({
          name: engineName(['k8s', slot.launch.name, pod.name, pod.namespace, pod.uid.slice(0, 8), String(slot.restartCount)]),
          Image: slot.launch.image,
          ...entrypointAndCmd(slot.launch),
          Env: slot.launch.env.map((e) => `${e.name}=${e.value}`),
          ...(slot.launch.workingDir === undefined ? {} : { WorkingDir: slot.launch.workingDir }),
          Labels: { ...labels, [CONTAINER_LABEL]: slot.launch.name, [RESTART_LABEL]: String(slot.restartCount) },
          HostConfig: { NetworkMode: `container:${this.#sandboxId}` },
        });
        if (slot.previousId !== undefined) await engine.removeContainer(slot.previousId);
        slot.previousId = slot.id;
        slot.id = id;
        if (this.#stopping) return;
        await engine.startContainer(id);
        startedAt = Date.now();
        this.#set(slot, { running: { startedAt: new Date(startedAt).toISOString() } });
        this.#livenessFor(slot)?.restart();
      } catch (err) {
        // kubelet: CreateContainerError / RunContainerError, retried with the back-off.
        const reason = slot.id === undefined ? 'CreateContainerError' : 'RunContainerError';
        this.#log(`pod ${this.key} container ${slot.launch.name}: ${(err as Error).message}`);
        this.#set(slot, { waiting: { reason, message: (err as Error).message } });
        slot.failures++;
        await this.#sleep(slot, pullBackoffMs(slot.failures, timeScale));
        continue;
      }
      const exitCode = await engine.waitContainer(slot.id).catch((err: Error) => {
        this.#log(`pod ${this.key} container ${slot.launch.name}: wait failed: ${err.message}`);
        return 255;
      });
      slot.liveness?.stop();
      if (this.#stopping) return;
      const finished: ContainerState = {
        terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: new Date().toISOString() },
      };
      slot.lastState = finished;
      const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0);
      if (!restart) {
        this.#set(slot, finished);
        return;
      }
      const delay = slot.backoff.delayAfter(Date.now() - startedAt);
      slot.restartCount++;
      this.#log(`pod ${this.key} container ${slot.launch.name} exited with ${exitCode}; restart ${slot.restartCount}`);
      if (delay > 0) {
        const message = `back-off ${CrashBackoff.describe(delay, timeScale)} restarting failed container=${slot.launch.name} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
        this.#set(slot, { waiting: { reason: 'CrashLoopBackOff', message } });
        await this.#sleep(slot, Math.max(MIN_BACKOFF_MS, delay));
      }
    }
  }
}
