/**
 * The external backend: perf/process-backend.mjs run by the harness itself, on the
 * servers' CPU, before aks-emu starts. The *-external rows reach it through aks-emu's
 * selector-less Services (whose EndpointSlices point at it), and the haproxy-external and
 * nginx-external anchors directly: one process behind every proxy, as a user's own
 * service (or one in a container) is.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitListening } from './anchors.js';
import type { ExternalBackend } from './cluster-types.js';

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;

export interface RunningBackend extends ExternalBackend {
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startExternalBackend(cpus: string | undefined): Promise<RunningBackend> {
  const port = await freePort(HOST);
  const script = fileURLToPath(new URL('./process-backend.mjs', import.meta.url));
  const argv = [...(cpus === undefined ? [] : ['taskset', '-c', cpus]), process.execPath, script];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOST, PORT: String(port) } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitListening(HOST, port, child, START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw new Error(`the external backend: ${(err as Error).message}`);
  }
  return { host: HOST, port, pid: child.pid ?? -1, stop };
}
