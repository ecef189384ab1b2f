/**
 * The `process` pod kind: each container a `workloads:` mapping matches runs as a local
 * child process per replica, supervised like kubelet (ContainerProcess), with its pod IP
 * port forwarded to the replica's own PORT (PortForward) and liveness probes acted upon.
 * Containers of the pod that no mapping matches keep the built-in echo pod's listeners.
 */
import type { ContainerStatusInfo, PodInfo, ProcessContainer } from '../../cluster/snapshot.js';
import type { Container } from '../../model/types.js';
import { createEchoPod } from '../echo/echo-pod.js';
import type { PodKindContext, PodOfKind } from '../kinds/registry.js';
import type { PodRuntime } from '../pod-runtime.js';
import { ContainerProcess } from './container-process.js';
import { containerEnv } from './container-env.js';
import { LivenessWorker, runExec } from './liveness.js';
import { preloadPath, RESOLVER_TIMEOUT_MS, serviceNames, writeHosts } from './node-preload.js';
import { freePort, portOpen, PortForward } from './port-forward.js';

/** core/v1 default terminationGracePeriodSeconds. */
const DEFAULT_GRACE_SECONDS = 30;
/** How often the app's PORT is tried until it listens (not scaled: it is not a Kubernetes duration). */
const PORT_POLL_MS = 50;
/** After this long (scaled) without the app listening, say so once. */
const PORT_WAIT_NOTICE_S = 30;

interface Supervised {
  readonly spec: ProcessContainer;
  readonly container: Container;
  readonly process: ContainerProcess;
  readonly forward: PortForward | undefined;
  readonly liveness: LivenessWorker | undefined;
}

export interface LogRequest {
  readonly container?: string;
  readonly previous?: boolean;
}

class ProcessPod implements PodRuntime {
  #pod: PodOfKind<'process'>;
  readonly #ctx: PodKindContext;
  readonly #supervised: Supervised[] = [];
  #echo: PodRuntime | undefined;
  #stopped = false;
  /** The cluster's names last written for the preload (AKS_EMU_HOSTS: which names get the pod IP as source), as JSON text. */
  #names: { readonly text: string; readonly path: string } | undefined;

  constructor(pod: PodOfKind<'process'>, ctx: PodKindContext) {
    this.#pod = pod;
    this.#ctx = ctx;
  }

  get pod(): PodInfo {
    return this.#pod;
  }

  async start(): Promise<void> {
    const mapped = new Set(this.#pod.runtime.containers.map((c) => c.name));
    const unmapped = this.#pod.containers.filter((c) => !mapped.has(c.name));
    if (unmapped.length > 0) {
      this.#echo = createEchoPod(
        { ...this.#pod, containers: unmapped },
        { nodeName: this.#ctx.nodeName, ...(this.#ctx.nodeAddress ? { nodeAddress: this.#ctx.nodeAddress } : {}) },
      );
      await this.#echo.start();
    }
    for (const spec of this.#pod.runtime.containers) this.#supervised.push(await this.#supervise(spec));
    for (const s of this.#supervised) s.process.start();
  }

  async #supervise(spec: ProcessContainer): Promise<Supervised> {
    const pod = this.#pod;
    const container = pod.containers.find((c) => c.name === spec.name)!;
    const declared = container.ports.find((p) => p.protocol === 'TCP');
    const forward = declared ? new PortForward(pod, declared.containerPort, await freePort(), () => this.#ctx.networkPolicy?.()) : undefined;
    const prefix = pod.runtime.containers.length > 1 ? `${pod.name}/${spec.name}` : pod.name;
    const env = (): NodeJS.ProcessEnv => this.#env(spec, forward);
    const liveness = container.livenessProbe
      ? new LivenessWorker({
          pod,
          container,
          spec: container.livenessProbe,
          clock: this.#ctx.clock,
          timeScale: this.#ctx.timeScale,
          sourceAddress: this.#ctx.nodeAddress,
          cwd: spec.cwd,
          env,
          onFailure: (message) => process.restartForLiveness(message),
        })
      : undefined;
    const process: ContainerProcess = new ContainerProcess({
      podName: `${pod.name}_${pod.namespace}(${pod.uid})`,
      name: spec.name,
      command: spec.command,
      cwd: spec.cwd,
      restartPolicy: this.#restartPolicy(),
      graceSeconds: this.#graceSeconds(),
      timeScale: this.#ctx.timeScale,
      clock: this.#ctx.clock,
      env,
      ...(spec.configError !== undefined ? { configError: spec.configError } : {}),
      log: (line) => this.#ctx.log(`${prefix} | ${line}`),
      onStatus: () => this.#ctx.statusChanged(),
      onStart: () => {
        liveness?.restart();
        if (forward) void this.#openWhenListening(process, forward, prefix);
      },
      onExit: () => {
        liveness?.stop();
        void forward?.close();
      },
    });
    process.logs.on('line', (line) => this.#ctx.log(`${prefix} | ${line}`));
    return { spec, container, process, forward, liveness };
  }

  /** Opens the pod IP listener once the app listens on its PORT, while this instance runs. */
  async #openWhenListening(process: ContainerProcess, forward: PortForward, prefix: string): Promise<void> {
    const pid = process.pid;
    const started = this.#ctx.clock.now();
    let told = false;
    while (!this.#stopped && process.running && process.pid === pid) {
      if (await portOpen(forward.hostPort)) {
        if (!this.#stopped && process.running && process.pid === pid) {
          await forward.openListener().catch((err: Error) => this.#ctx.log(`${prefix} | ${err.message}`));
        }
        return;
      }
      if (!told && this.#ctx.clock.now() - started > PORT_WAIT_NOTICE_S * 1000 * this.#ctx.timeScale) {
        told = true;
        this.#ctx.log(
          `${prefix} | not listening on PORT=${forward.hostPort} yet: the pod's port ${forward.containerPort} stays closed and its readiness cannot pass (an app must listen on $PORT)`,
        );
      }
      await new Promise((r) => setTimeout(r, PORT_POLL_MS));
    }
  }

  #env(spec: ProcessContainer, forward: PortForward | undefined): NodeJS.ProcessEnv {
    const pod = this.#pod;
    const services = this.#ctx.services();
    const env = containerEnv(pod, this.#ctx.nodeAddress, spec.env, services);
    const hosts = this.#writeNames();
    const { NODE_OPTIONS: _ours, ...inherited } = globalThis.process.env;
    return {
      // A local process needs the host's PATH, HOME, ...; aks-emu's own NODE_OPTIONS is not the app's.
      ...inherited,
      HOSTNAME: pod.name,
      ...env,
      ...(forward ? { PORT: String(forward.hostPort) } : {}),
      AKS_EMU_POD_IP: pod.ip,
      AKS_EMU_HOSTS: hosts,
      AKS_EMU_NAMESPACE: pod.namespace,
      ...this.#resolver(),
      NODE_OPTIONS: [`--require ${preloadPath()}`, env.NODE_OPTIONS].filter(Boolean).join(' '),
    };
  }

  /** The preload's resolver: the cluster DNS and glibc's query timeout, scaled as the pod's other timings are. */
  #resolver(): NodeJS.ProcessEnv {
    const dns = this.#ctx.clusterDns?.();
    if (dns === undefined) return {};
    return { AKS_EMU_DNS: `${dns.address}:${dns.port}`, AKS_EMU_DNS_TIMEOUT_MS: String(Math.max(1, Math.round(RESOLVER_TIMEOUT_MS * this.#ctx.timeScale))) };
  }

  #restartPolicy(): 'Always' | 'OnFailure' | 'Never' {
    const declared = this.#pod.restartPolicy;
    // Only a bare Pod may say OnFailure or Never; the workload controllers require Always.
    return this.#pod.ownerKind === 'Pod' && declared ? declared : 'Always';
  }

  #graceSeconds(): number {
    return this.#pod.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(
      this.#supervised.map(async (s) => {
        s.liveness?.stop();
        await s.process.stop();
        await s.forward?.close();
      }),
    );
    await this.#echo?.stop();
  }

  setHealthy(healthy: boolean): void {
    this.#echo?.setHealthy(healthy);
  }

  update(pod: PodInfo): void {
    this.#pod = pod as PodOfKind<'process'>;
    this.#echo?.update({ ...pod, containers: this.#echo.pod.containers });
    // A headless Service's names follow its ready pods: the running processes re-read the table when it changes.
    if (this.#names !== undefined) this.#writeNames();
  }

  /** Writes the pod's name table when it differs from the last one written; returns its path. */
  #writeNames(): string {
    const names = JSON.stringify(serviceNames(this.#ctx.dnsRecords(), this.#pod.namespace));
    if (this.#names?.text !== names) this.#names = { text: names, path: writeHosts(`${this.#pod.namespace}/${this.#pod.name}`, names) };
    return this.#names.path;
  }

  containerStatuses(): ContainerStatusInfo[] {
    return this.#supervised.map((s) => s.process.status(this.#pod.ready));
  }

  logs(request: LogRequest): string | undefined {
    const s = this.#pick(request.container);
    return request.previous ? s?.process.logs.previous() : s?.process.logs.current();
  }

  followLogs(container: string | undefined, onLine: (line: string) => void): () => void {
    const ring = this.#pick(container)?.process.logs;
    ring?.on('line', onLine);
    return () => ring?.off('line', onLine);
  }

  execProbe(container: string, command: readonly string[], timeoutMs: number, done: (outcome: { success: boolean; message: string }) => void): () => void {
    const s = this.#supervised.find((x) => x.spec.name === container);
    // A container the echo pod serves has nowhere to run a command: it passes, as on the echo pod.
    if (s === undefined) {
      done({ success: true, message: 'exec probe assumed to pass' });
      return () => {};
    }
    if (!s.process.running) {
      done({ success: false, message: `container "${container}" is not running` });
      return () => {};
    }
    return runExec(command, s.spec.cwd, this.#env(s.spec, s.forward), timeoutMs, done);
  }

  crash(): boolean {
    return this.#supervised.map((s) => s.process.crash()).some(Boolean);
  }

  #pick(container: string | undefined): Supervised | undefined {
    return container === undefined ? this.#supervised[0] : this.#supervised.find((s) => s.spec.name === container);
  }
}

export function createProcessPod(pod: PodOfKind<'process'>, ctx: PodKindContext): ProcessPod {
  return new ProcessPod(pod, ctx);
}
