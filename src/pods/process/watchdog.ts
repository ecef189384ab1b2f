/**
 * How a process pod's container is spawned so that it never outlives aks-emu. Node has
 * no prctl(PR_SET_PDEATHSIG), so each container runs under a small POSIX sh watchdog in
 * its own process group (the session setsid gives it):
 *  - the app is started in the background; its pid comes back on fd 3;
 *  - a watcher subshell blocks reading aks-emu's end of a pipe (the sh's stdin): when
 *    aks-emu exits in any way, kill -9 included, the kernel closes that pipe, the read
 *    returns and the watcher kills the whole group (`kill -KILL 0`);
 *  - SIGTERM to the sh is passed to the app only (Kubernetes signals the container's
 *    main process), so aks-emu can give the grace period and then SIGKILL the group.
 * A process that leaves the group on purpose (setsid, a daemon's double fork) escapes
 * this; a container's cgroup would catch it, aks-emu cannot (docs/workloads.md says so).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = [
  // The sh's own messages (job reports such as "Terminated") stay out of the container's log.
  'exec 5<&0 0</dev/null 6>&2 2>/dev/null',
  '"$@" 2>&6 3>&- 5<&- 6>&- &',
  'child=$!',
  'echo "$child" >&3',
  'exec 3>&-',
  '( read -r _ <&5; kill -KILL 0 ) &',
  'watcher=$!',
  'exec 5<&- 6>&-',
  'trap \'kill -TERM "$child" 2>/dev/null\' TERM',
  'trap \'kill -INT "$child" 2>/dev/null\' INT',
  'while :; do',
  '  wait "$child"; code=$?',
  '  kill -0 "$child" 2>/dev/null || break',
  'done',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

export interface WatchedChild {
  /** The watchdog: its pid is the process group of the container. */
  readonly child: ChildProcess;
  /** Resolves with the app's own pid once the watchdog reports it. */
  readonly appPid: Promise<number | undefined>;
}

export function spawnWatched(argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): WatchedChild {
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'aks-emu-pod', ...argv], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const pidPipe = child.stdio[3];
  const appPid = new Promise<number | undefined>((resolve) => {
    if (!pidPipe) return resolve(undefined);
    let text = '';
    pidPipe.on('data', (chunk: Buffer) => (text += chunk.toString()));
    pidPipe.on('close', () => resolve(/^\d+/.test(text.trim()) ? Number(text.trim()) : undefined));
    pidPipe.on('error', () => resolve(undefined));
  });
  // The watchdog's stdin is held open and never written: its closing is aks-emu's death.
  // Nothing is ever written to it, so an EPIPE there only repeats the exit the 'exit' event reports.
  child.stdin?.on('error', () => {});
  return { child, appPid };
}

/** A signal to the whole group (the watchdog, the app and anything it started). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch (err) {
    // ESRCH: the group is already gone, which is what the caller wanted.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
