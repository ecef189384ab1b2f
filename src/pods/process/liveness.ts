/**
 * kubelet's liveness worker for one process container (pkg/kubelet/prober/worker.go):
 * from initialDelaySeconds on, every periodSeconds, one run bounded by timeoutSeconds;
 * failureThreshold failures in a row and kubelet restarts the container. httpGet and
 * tcpSocket go to the pod IP from the node's address, as the readiness probes do; exec
 * runs the probe's command in the container's directory and environment (exit 0 passes).
 */
import { spawn } from 'node:child_process';
import type { PodInfo } from '../../cluster/snapshot.js';
import type { Clock, TimerHandle } from '../../dataplane/clock.js';
import type { Container, ProbeSpec } from '../../model/types.js';
import { checkHttpGet, checkTcpSocket, type ProbeOutcome } from '../readiness/probe-check.js';
import { MIN_PROBE_TIMEOUT_MS } from '../readiness/readiness-prober.js';
import { resolveProbePort } from '../readiness/probe-target.js';

export interface LivenessOptions {
  readonly pod: PodInfo;
  readonly container: Container;
  readonly spec: ProbeSpec;
  readonly clock: Clock;
  readonly timeScale: number;
  readonly sourceAddress: string | undefined;
  readonly cwd: string;
  env(): NodeJS.ProcessEnv;
  /** failureThreshold failures in a row. */
  onFailure(message: string): void;
}

export function runExec(command: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number, done: (o: ProbeOutcome) => void): () => void {
  if (command.length === 0) {
    done({ success: false, message: 'exec probe has no command' });
    return () => {};
  }
  const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  let output = '';
  const keep = (b: Buffer) => (output = (output + b.toString()).slice(-1024));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let settled = false;
  const finish = (o: ProbeOutcome) => {
    if (settled) return;
    settled = true;
    done(o);
  };
  child.on('error', (err) => finish({ success: false, message: err.message }));
  child.on('exit', (code, signal) =>
    finish(
      code === 0
        ? { success: true, message: '' }
        : { success: false, message: signal === 'SIGKILL' ? `command timed out` : `command exited with ${code}: ${output.trim()}` },
    ),
  );
  return () => {
    settled = true;
    child.kill('SIGKILL');
  };
}

export class LivenessWorker {
  readonly #o: LivenessOptions;
  #timer: TimerHandle | undefined;
  #cancel: (() => void) | undefined;
  #failures = 0;
  #stopped = false;

  constructor(options: LivenessOptions) {
    this.#o = options;
  }

  /** A new instance of the container started: probing starts over after initialDelaySeconds. */
  restart(): void {
    this.stop();
    this.#stopped = false;
    this.#failures = 0;
    this.#schedule(this.#o.spec.initialDelaySeconds);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #schedule(seconds: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => this.#run(), seconds * 1000 * this.#o.timeScale);
  }

  #run(): void {
    const { spec, container, pod, clock } = this.#o;
    const timeoutMs = Math.max(MIN_PROBE_TIMEOUT_MS, spec.timeoutSeconds * 1000 * this.#o.timeScale);
    const run = { address: pod.ip, timeoutMs, clock, ...(this.#o.sourceAddress ? { localAddress: this.#o.sourceAddress } : {}) };
    const done = (outcome: ProbeOutcome) => {
      this.#cancel = undefined;
      if (this.#stopped) return;
      this.#failures = outcome.success ? 0 : this.#failures + 1;
      if (this.#failures >= spec.failureThreshold) {
        this.stop();
        this.#o.onFailure(`Liveness probe failed: ${outcome.message}`);
        return;
      }
      this.#schedule(spec.periodSeconds);
    };
    if (spec.exec) {
      this.#cancel = runExec(spec.exec.command, this.#o.cwd, this.#o.env(), timeoutMs, done);
      return;
    }
    const portOf = (p: number | string) => resolveProbePort(p, container);
    if (spec.httpGet) {
      const port = portOf(spec.httpGet.port);
      if (typeof port === 'string') return done({ success: false, message: port });
      const path = spec.httpGet.path.startsWith('/') ? spec.httpGet.path : `/${spec.httpGet.path}`;
      this.#cancel = checkHttpGet(run, { scheme: spec.httpGet.scheme, port, path, headers: spec.httpGet.httpHeaders }, done);
    } else if (spec.tcpSocket) {
      const port = portOf(spec.tcpSocket.port);
      if (typeof port === 'string') return done({ success: false, message: port });
      this.#cancel = checkTcpSocket(run, port, done);
    } else {
      // grpc: nothing to run it against; it passes, as the readiness prober treats it.
      this.#schedule(spec.periodSeconds);
    }
  }
}
