/**
 * One container of a process pod, supervised as kubelet supervises a container: started
 * (through the watchdog), its output kept per instance, restarted after an exit according
 * to the pod's restartPolicy with kubelet's crash back-off, stopped with SIGTERM and,
 * after terminationGracePeriodSeconds, SIGKILL. Its state reads as core/v1 ContainerStatus.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { ContainerState, ContainerStatusInfo } from '../../cluster/snapshot.js';
import type { Clock, TimerHandle } from '../../dataplane/clock.js';
import { CrashBackoff } from './backoff.js';
import { LogRing } from './log-ring.js';
import { signalGroup, spawnWatched } from './watchdog.js';

/** How long an exited process's pipes may take to drain before its instance is closed anyway. */
const PIPE_DRAIN_MS = 1000;

export interface ContainerProcessOptions {
  /** `ns/pod` and the container's name, for messages. */
  readonly podName: string;
  readonly name: string;
  readonly command: readonly string[];
  readonly cwd: string;
  readonly restartPolicy: 'Always' | 'OnFailure' | 'Never';
  readonly graceSeconds: number;
  readonly timeScale: number;
  readonly clock: Clock;
  /** The environment of the next instance (Service variables are read at each start, as kubelet does). */
  env(): NodeJS.ProcessEnv;
  /** kubelet's CreateContainerConfigError: the container never starts while this is set. */
  readonly configError?: string;
  /** One line of the container's output, or of what happened to it, for aks-emu's own log. */
  log(line: string): void;
  /** The status changed (started, exited, backing off, restarted). */
  onStatus(): void;
  /** A new instance runs (its app pid known). */
  onStart?(pid: number | undefined): void;
  onExit?(): void;
}

type Phase =
  | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly kind: 'running'; readonly child: ChildProcess; readonly startedAt: number; pid: number | undefined }
  | { readonly kind: 'terminated'; readonly state: ContainerState & { terminated: unknown } }
  | { readonly kind: 'stopped' };

const iso = (ms: number) => new Date(ms).toISOString();

/** Where the command's program is, or kubelet-like words for why it cannot be run. */
export function findProgram(program: string, cwd: string, path: string | undefined): { path: string } | { error: string } {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(cwd, program)]
    : (path ?? '')
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => resolve(d, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return { path: candidate };
    } catch (err) {
      // Not here (ENOENT) or not executable (EACCES): try the next directory of PATH.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    }
  }
  return {
    error: program.includes('/')
      ? `exec: "${program}": stat ${candidates[0]}: no such file or directory`
      : `exec: "${program}": executable file not found in $PATH`,
  };
}

export class ContainerProcess {
  readonly logs = new LogRing();
  readonly #o: ContainerProcessOptions;
  readonly #backoff: CrashBackoff;
  #phase: Phase = { kind: 'waiting', reason: 'ContainerCreating' };
  #lastState: ContainerState | undefined;
  #restartCount = 0;
  #restartTimer: TimerHandle | undefined;
  #killTimer: TimerHandle | undefined;
  #stopping: Promise<void> | undefined;
  /** Settles `stop()` once the instance has ended (its pipes drained, so the app is gone too). */
  #stopped: (() => void) | undefined;
  /** Set while a stop or a liveness kill waits for the exit: the exit is then not a crash to report twice. */
  #killReason: string | undefined;

  constructor(options: ContainerProcessOptions) {
    this.#o = options;
    this.#backoff = new CrashBackoff(options.timeScale);
  }

  get pid(): number | undefined {
    return this.#phase.kind === 'running' ? this.#phase.pid : undefined;
  }

  get running(): boolean {
    return this.#phase.kind === 'running';
  }

  status(ready: boolean): ContainerStatusInfo {
    const state = this.#state();
    const running = 'running' in state;
    return {
      name: this.#o.name,
      state,
      ...(this.#lastState ? { lastState: this.#lastState } : {}),
      ready: running && ready,
      restartCount: this.#restartCount,
      started: running,
      ...(this.pid !== undefined ? { pid: this.pid } : {}),
    };
  }

  start(): void {
    if (this.#o.configError !== undefined) {
      this.#phase = { kind: 'waiting', reason: 'CreateContainerConfigError', message: this.#o.configError };
      this.#o.log(`Error: ${this.#o.configError}`);
      this.#o.onStatus();
      return;
    }
    const env = this.#o.env();
    const found = findProgram(this.#o.command[0]!, this.#o.cwd, env.PATH);
    let cwdError: string | undefined;
    if (!statSync(this.#o.cwd, { throwIfNoEntry: false })?.isDirectory()) cwdError = `chdir ${this.#o.cwd}: no such file or directory`;
    const startError = cwdError ?? ('error' in found ? found.error : undefined);
    const now = this.#o.clock.now();
    if (startError !== undefined) {
      this.#o.log(`Error: failed to start container "${this.#o.name}": ${startError}`);
      this.#exited({ terminated: { reason: 'StartError', exitCode: 128, message: startError, startedAt: iso(now), finishedAt: iso(now) } }, 0);
      return;
    }
    const { child, appPid } = spawnWatched(this.#o.command, { cwd: this.#o.cwd, env });
    const phase: Phase & { kind: 'running' } = { kind: 'running', child, startedAt: now, pid: undefined };
    this.#phase = phase;
    this.logs.newInstance();
    child.stdout?.on('data', (chunk: Buffer) => this.#output('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#output('stderr', chunk));
    child.on('error', (err) => this.#o.log(`Error: container "${this.#o.name}": ${err.message}`));
    child.on('exit', (code, signal) => {
      // What the app left running in its group goes with it; its last output may still be in
      // the pipes, so the instance ends once they are drained ('close'), or after a bound in
      // case something outside the group still holds them.
      signalGroup(child, 'SIGKILL');
      let drain: TimerHandle | undefined;
      const end = (): void => {
        if (drain === undefined) return;
        this.#o.clock.clearTimeout(drain);
        drain = undefined;
        this.#onExit(phase, code, signal);
      };
      drain = this.#o.clock.setTimeout(end, PIPE_DRAIN_MS);
      child.once('close', end);
    });
    void appPid.then((pid) => {
      phase.pid = pid;
      this.#o.onStart?.(pid);
      this.#o.onStatus();
    });
    this.#o.onStatus();
  }

  /** `aks-emu pod kill`: the container dies at once (SIGKILL), and kubelet restarts it per policy. */
  crash(): boolean {
    if (this.#phase.kind !== 'running') return false;
    return signalGroup(this.#phase.child, 'SIGKILL');
  }

  /** A liveness probe failed: kubelet kills the container with its grace period, then restarts it. */
  restartForLiveness(message: string): void {
    if (this.#phase.kind !== 'running' || this.#killReason !== undefined) return;
    this.#o.log(`Container ${this.#o.name} failed liveness probe, will be restarted: ${message}`);
    this.#terminate(this.#phase, 'liveness');
  }

  /** SIGTERM, then SIGKILL after the grace period; no restart afterwards. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#restartTimer !== undefined) this.#o.clock.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const phase = this.#phase;
    if (phase.kind !== 'running') {
      this.#phase = { kind: 'stopped' };
      return (this.#stopping = Promise.resolve());
    }
    // Not the watchdog's 'exit': the group's SIGKILL reaches the watchdog and the app at the
    // same moment, and on a loaded machine the app may not have died yet when the watchdog is
    // reaped. The instance ends once the app's ends of the pipes are closed too (#onExit).
    this.#stopping = new Promise<void>((done) => (this.#stopped = done));
    // A liveness kill already under way keeps its grace timer; the exit is now a stop.
    if (this.#killReason === undefined) this.#terminate(phase, 'stop');
    else this.#killReason = 'stop';
    return this.#stopping;
  }

  #terminate(phase: Phase & { kind: 'running' }, why: string): void {
    this.#killReason = why;
    // Kubernetes signals the container's main process; the watchdog passes SIGTERM to the app only.
    phase.child.kill('SIGTERM');
    const graceMs = this.#o.graceSeconds * 1000 * this.#o.timeScale;
    this.#killTimer = this.#o.clock.setTimeout(() => {
      this.#killTimer = undefined;
      if (this.#phase !== phase) return;
      this.#o.log(`container "${this.#o.name}" did not exit within terminationGracePeriodSeconds (${this.#o.graceSeconds}s): SIGKILL`);
      signalGroup(phase.child, 'SIGKILL');
    }, graceMs);
  }

  #output(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.logs.write(stream, chunk);
  }

  #onExit(phase: Phase & { kind: 'running' }, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#killTimer !== undefined) this.#o.clock.clearTimeout(this.#killTimer);
    this.#killTimer = undefined;
    // Whatever the app left running in its group goes with it, as a container's processes do.
    signalGroup(phase.child, 'SIGKILL');
    this.logs.endInstance();
    const stopping = this.#killReason === 'stop';
    this.#killReason = undefined;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1);
    const now = this.#o.clock.now();
    const state: ContainerState & { terminated: unknown } = {
      terminated: {
        reason: exitCode === 0 ? 'Completed' : 'Error',
        exitCode,
        ...(signal ? { signal: exitCode - 128 } : {}),
        startedAt: iso(phase.startedAt),
        finishedAt: iso(now),
      },
    };
    this.#o.onExit?.();
    if (stopping || this.#stopping) {
      this.#phase = { kind: 'stopped' };
      this.#stopped?.();
      this.#stopped = undefined;
      return;
    }
    this.#o.log(`container "${this.#o.name}" exited with code ${exitCode}${signal ? ` (${signal})` : ''}`);
    this.#exited(state, now - phase.startedAt);
  }

  #exited(state: ContainerState & { terminated: unknown }, ranMs: number): void {
    const t = (state as { terminated: { exitCode: number } }).terminated;
    const restart = this.#o.restartPolicy === 'Always' || (this.#o.restartPolicy === 'OnFailure' && t.exitCode !== 0);
    if (!restart) {
      this.#phase = { kind: 'terminated', state };
      this.#o.onStatus();
      return;
    }
    this.#lastState = state;
    const delay = this.#backoff.delayAfter(ranMs);
    const message = `back-off ${CrashBackoff.describe(delay, this.#o.timeScale)} restarting failed container=${this.#o.name} pod=${this.#o.podName}`;
    this.#phase = delay === 0 ? { kind: 'terminated', state } : { kind: 'waiting', reason: 'CrashLoopBackOff', message };
    if (delay > 0) this.#o.log(message);
    this.#o.onStatus();
    this.#restartTimer = this.#o.clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#phase.kind === 'stopped') return;
      this.#restartCount++;
      this.start();
    }, delay);
  }

  #state(): ContainerState {
    const p = this.#phase;
    switch (p.kind) {
      case 'waiting':
        return { waiting: { reason: p.reason, ...(p.message ? { message: p.message } : {}) } };
      case 'running':
        return { running: { startedAt: iso(p.startedAt) } };
      case 'terminated':
        return p.state;
      case 'stopped':
        return { waiting: { reason: 'Terminating' } };
    }
  }
}
