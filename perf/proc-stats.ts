/**
 * What the kernel knows about a process, read from /proc without disturbing it (no IPC
 * round trip, no work in its event loop): CPU time, resident memory, open files.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks; 100 on every mainstream Linux ABI. */
const TICKS_PER_SECOND = 100;

/** utime + stime (fields 14 and 15), in seconds. The command name may contain spaces, so split after ')'. */
export function parseCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** A `Name:   1234 kB` line of /proc/<pid>/status, in bytes; undefined if absent. */
export function parseStatusBytes(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** The soft `Max open files` of /proc/<pid>/limits. */
export function parseFileLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** The hard limit of open files (the most a child may raise its own to). */
export function parseHardFileLimit(limits: string): number | undefined {
  const match = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

export async function cpuSeconds(pid: number): Promise<number> {
  return parseCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

export interface Memory {
  readonly rssBytes: number;
  /** Peak RSS since start or since the last resetPeak(). */
  readonly hwmBytes: number;
}

export async function memory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssBytes = parseStatusBytes(status, 'VmRSS') ?? 0;
  return { rssBytes, hwmBytes: parseStatusBytes(status, 'VmHWM') ?? rssBytes };
}

/** Resets VmHWM to the current RSS (`echo 5 > clear_refs`, Linux 4.0+); false where not allowed. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** `127.67.0.1`:80 as /proc/net/tcp writes it on little-endian machines: `0100437F:0050`. */
export function procNetAddress(host: string, port: number): string {
  const hex = host
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).padStart(2, '0'))
    .join('');
  return `${hex}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
}

const TCP_LISTEN = '0A';
const TCP_TIME_WAIT = '06';

/**
 * Sockets with this local address:port and a peer among `peers` in /proc/net/tcp that
 * still hold a descriptor (not LISTEN, not TIME_WAIT): the connections from those
 * clients that the server side has not closed yet.
 */
export function countOpenAt(procNetTcp: string, host: string, port: number, peers: readonly string[]): number {
  const local = procNetAddress(host, port);
  const remotes = new Set(peers.map((p) => procNetAddress(p, 0).slice(0, 8)));
  let n = 0;
  for (const line of procNetTcp.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== local || fields[3] === TCP_LISTEN || fields[3] === TCP_TIME_WAIT) continue;
    if (remotes.has((fields[2] ?? '').slice(0, 8))) n++;
  }
  return n;
}

export async function openAt(host: string, port: number, peers: readonly string[]): Promise<number> {
  return countOpenAt(await readFile('/proc/net/tcp', 'utf8'), host, port, peers);
}

export async function fileLimit(pid: number): Promise<number | undefined> {
  return parseFileLimit(await readFile(`/proc/${pid}/limits`, 'utf8'));
}

/**
 * CPU and peak RSS of one process over a window. The peak is the larger of VmHWM (after
 * a reset) and VmRSS sampled every 100 ms, so it holds where clear_refs is not allowed.
 */
export class UsageWindow {
  #startCpu = 0;
  #peak = 0;
  #hwmValid = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(readonly pid: number) {}

  static async open(pid: number): Promise<UsageWindow> {
    const window = new UsageWindow(pid);
    window.#hwmValid = await resetPeak(pid);
    window.#startCpu = await cpuSeconds(pid);
    window.#peak = (await memory(pid)).rssBytes;
    window.#timer = setInterval(() => {
      memory(pid).then(
        (m) => (window.#peak = Math.max(window.#peak, m.rssBytes)),
        () => {},
      );
    }, 100);
    return window;
  }

  async close(): Promise<{ cpuSeconds: number; peakRssBytes: number }> {
    clearInterval(this.#timer);
    const cpu = await cpuSeconds(this.pid);
    const m = await memory(this.pid);
    const hwm = this.#hwmValid ? m.hwmBytes : 0;
    return { cpuSeconds: cpu - this.#startCpu, peakRssBytes: Math.max(this.#peak, hwm, m.rssBytes) };
  }
}
