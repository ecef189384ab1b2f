/**
 * kubelet's readiness probing (pkg/kubelet/prober/worker.go): one worker per container
 * with a readinessProbe. A container starts NotReady (the worker's initial value is
 * Failure); from initialDelaySeconds on it is probed every periodSeconds, each run
 * bounded by timeoutSeconds; successThreshold consecutive successes make it Ready and
 * failureThreshold consecutive failures NotReady again. A pod is Ready when all of its
 * containers are; a container without a readinessProbe counts as Ready from the start.
 * Every duration is multiplied by timeScale.
 */
import { EventEmitter } from 'node:events';
import type { PodInfo } from '../../cluster/snapshot.js';
import { realClock, type Clock } from '../../dataplane/clock.js';
import { checkHttpGet, checkTcpSocket, type ProbeOutcome, type ProbeRun } from './probe-check.js';
import { probeTarget, type ProbeTarget } from './probe-target.js';

/** The shortest probe timeout after scaling (kubelet's own minimum is 1 s). */
export const MIN_PROBE_TIMEOUT_MS = 250;

export interface ReadinessEvent {
  /** `namespace/name` */
  readonly podKey: string;
  readonly ready: boolean;
  readonly reason: string;
}

/** One probe run of one container: every run, not only transitions (for logs and tests). */
export interface ProbeEvent {
  readonly podKey: string;
  readonly container: string;
  readonly success: boolean;
  readonly message: string;
}

interface ReadinessProberEvents {
  readiness: [ReadinessEvent];
  probe: [ProbeEvent];
  /** One line for the user, e.g. that an exec probe cannot run and is treated as passing. */
  notice: [string];
}

export interface ReadinessProberOptions {
  readonly clock?: Clock;
  readonly timeScale: number;
  /** The address probes connect from (the pod's node, where kubelet runs); the OS picks when undefined. */
  readonly sourceAddress?: (pod: PodInfo) => string | undefined;
  /** Runs exec probes where the pod kind has somewhere to run them (a process pod's directory and env). */
  readonly exec?: ExecProbes;
}

export interface ExecProbes {
  supports(pod: PodInfo): boolean;
  /** One run: `done` once unless the returned cancel runs first. */
  run(pod: PodInfo, container: string, command: readonly string[], timeoutMs: number, done: (outcome: ProbeOutcome) => void): () => void;
}

class ContainerWorker {
  /** Readiness as this container's probe last decided it. */
  ready = false;
  lastSuccess: boolean | undefined;
  /** How many runs in a row gave lastSuccess (kubelet's resultRun). */
  resultRun = 0;
  timer: unknown;
  cancel: (() => void) | undefined;
  stopped = false;

  constructor(readonly target: ProbeTarget) {}
}

interface WatchedPod {
  /** Kept current by watch(): labels and readiness change without restarting probes. */
  pod: PodInfo;
  /** What probing depends on; a watch() with the same signature leaves probing alone. */
  readonly signature: string;
  readonly workers: readonly ContainerWorker[];
  ready: boolean;
}

function podKeyOf(pod: PodInfo): string {
  return `${pod.namespace}/${pod.name}`;
}

function probingSignature(pod: PodInfo): string {
  return JSON.stringify([pod.uid, pod.ip, pod.phase, pod.containers.map((c) => [c.name, c.ports, c.readinessProbe])]);
}

export class ReadinessProber extends EventEmitter<ReadinessProberEvents> {
  readonly #clock: Clock;
  readonly #timeScale: number;
  readonly #sourceAddress: ((pod: PodInfo) => string | undefined) | undefined;
  readonly #pods = new Map<string, WatchedPod>();
  /** Containers already told about (exec/grpc probes), so the notice is said once. */
  readonly #noticed = new Set<string>();
  readonly #exec: ExecProbes | undefined;

  constructor(options: ReadinessProberOptions) {
    super();
    this.#clock = options.clock ?? realClock;
    this.#timeScale = options.timeScale;
    this.#sourceAddress = options.sourceAddress;
    this.#exec = options.exec;
  }

  /** Starts probing the pod's containers; restarts when the pod's probes, address or uid changed. */
  watch(pod: PodInfo): void {
    const podKey = podKeyOf(pod);
    const signature = probingSignature(pod);
    const previous = this.#pods.get(podKey);
    if (previous?.signature === signature) {
      previous.pod = pod;
      return;
    }
    if (previous) this.#stopWorkers(previous);
    const targets = pod.containers.map(probeTarget).filter((t): t is ProbeTarget => t !== undefined);
    const watched: WatchedPod = { pod, signature, workers: targets.map((t) => new ContainerWorker(t)), ready: false };
    this.#pods.set(podKey, watched);
    if (previous?.ready) this.emit('readiness', { podKey, ready: false, reason: 'the pod changed: readiness probes restarted' });
    // A container that is not running is not probed (kubelet skips non-running containers).
    if (pod.phase !== 'Running') return;
    if (watched.workers.length === 0) {
      watched.ready = true;
      this.emit('readiness', { podKey, ready: true, reason: 'no container has a readinessProbe' });
      return;
    }
    for (const worker of watched.workers) {
      this.#noticeAssumed(podKey, worker.target, pod);
      this.#schedule(watched, worker, worker.target.spec.initialDelaySeconds * 1000 * this.#timeScale);
    }
  }

  unwatch(podKey: string): void {
    const watched = this.#pods.get(podKey);
    if (!watched) return;
    this.#stopWorkers(watched);
    this.#pods.delete(podKey);
  }

  stop(): void {
    for (const podKey of [...this.#pods.keys()]) this.unwatch(podKey);
  }

  /** The pod's current readiness as probing sees it; undefined when not watched. */
  isReady(podKey: string): boolean | undefined {
    return this.#pods.get(podKey)?.ready;
  }

  #noticeAssumed(podKey: string, target: ProbeTarget, pod?: PodInfo): void {
    if (target.action.kind !== 'assumed') return;
    if (target.action.handler === 'exec' && pod !== undefined && this.#exec?.supports(pod)) return;
    const id = `${podKey}/${target.container}`;
    if (this.#noticed.has(id)) return;
    this.#noticed.add(id);
    this.emit(
      'notice',
      `pod ${podKey} container "${target.container}": ${target.action.handler} readiness probes cannot run against the built-in echo pod; treated as passing`,
    );
  }

  #stopWorkers(watched: WatchedPod): void {
    for (const worker of watched.workers) {
      worker.stopped = true;
      if (worker.timer !== undefined) this.#clock.clearTimeout(worker.timer);
      worker.timer = undefined;
      worker.cancel?.();
      worker.cancel = undefined;
    }
  }

  #schedule(watched: WatchedPod, worker: ContainerWorker, delayMs: number): void {
    worker.timer = this.#clock.setTimeout(() => {
      worker.timer = undefined;
      this.#run(watched, worker);
    }, delayMs);
  }

  #run(watched: WatchedPod, worker: ContainerWorker): void {
    const startedAt = this.#clock.now();
    const { spec, action } = worker.target;
    const done = (outcome: ProbeOutcome): void => {
      worker.cancel = undefined;
      if (worker.stopped) return;
      this.#record(watched, worker, outcome);
      if (worker.stopped) return;
      // Like kubelet's ticker: runs start a period apart; a run longer than the period is followed at once.
      const next = startedAt + spec.periodSeconds * 1000 * this.#timeScale - this.#clock.now();
      this.#schedule(watched, worker, Math.max(0, next));
    };
    const run: ProbeRun = {
      address: watched.pod.ip,
      // Scaled timeouts keep a floor: a 1 s timeout at timeScale 1/600 would be 2 ms, shorter
      // than a loaded event loop takes to answer on loopback, and every probe would fail.
      timeoutMs: Math.max(spec.timeoutSeconds * 1000 * this.#timeScale, MIN_PROBE_TIMEOUT_MS),
      clock: this.#clock,
      localAddress: this.#sourceAddress?.(watched.pod),
    };
    switch (action.kind) {
      case 'httpGet':
        worker.cancel = checkHttpGet(run, action, done);
        return;
      case 'tcpSocket':
        worker.cancel = checkTcpSocket(run, action.port, done);
        return;
      case 'assumed':
        if (action.handler === 'exec' && spec.exec && this.#exec?.supports(watched.pod)) {
          worker.cancel = this.#exec.run(watched.pod, worker.target.container, spec.exec.command, run.timeoutMs, done);
          return;
        }
        return done({ success: true, message: `${action.handler} probe assumed to pass` });
      case 'unresolved':
        return done({ success: false, message: action.message });
    }
  }

  #record(watched: WatchedPod, worker: ContainerWorker, outcome: ProbeOutcome): void {
    const podKey = podKeyOf(watched.pod);
    const container = worker.target.container;
    this.emit('probe', { podKey, container, success: outcome.success, message: outcome.message });
    if (worker.lastSuccess === outcome.success) worker.resultRun++;
    else {
      worker.lastSuccess = outcome.success;
      worker.resultRun = 1;
    }
    const { successThreshold, failureThreshold } = worker.target.spec;
    if (worker.resultRun < (outcome.success ? successThreshold : failureThreshold)) return;
    if (worker.ready === outcome.success) return;
    worker.ready = outcome.success;
    const ready = watched.workers.every((w) => w.ready);
    if (ready === watched.ready) return;
    watched.ready = ready;
    const reason = ready ? 'readiness probes succeeded' : `container "${container}": Readiness probe failed: ${outcome.message}`;
    this.emit('readiness', { podKey, ready, reason });
  }
}
