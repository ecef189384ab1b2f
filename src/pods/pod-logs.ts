/**
 * Reading a pod's logs and crashing it, with Kubernetes' answers where a pod kind keeps no
 * logs (the echo pod writes none; the ingress controller's log is its access log).
 */
import { AksEmuError } from '../errors/index.js';
import type { PodRuntime } from './pod-runtime.js';

export interface PodLogOptions {
  readonly container?: string;
  readonly previous?: boolean;
}

function noLogs(runtime: PodRuntime): AksEmuError {
  return new AksEmuError(
    'AKS_EMU_USAGE',
    `pod ${runtime.pod.namespace}/${runtime.pod.name} is a built-in ${runtime.pod.runtime.kind} pod: it keeps no logs of its own (process pods and the ingress controller do)`,
  );
}

export function podLogsOf(runtime: PodRuntime, namespace: string, name: string, options: PodLogOptions): string {
  if (!runtime.logs) throw noLogs(runtime);
  const container = options.container;
  if (container !== undefined && !runtime.pod.containers.some((c) => c.name === container)) {
    throw new AksEmuError('AKS_EMU_USAGE', `container ${container} is not valid for pod ${name}`);
  }
  const text = runtime.logs(options);
  if (text !== undefined) return text;
  const which = container ?? runtime.pod.containers[0]?.name ?? '';
  if (options.previous) throw new AksEmuError('AKS_EMU_USAGE', `previous terminated container "${which}" in pod "${name}" not found`);
  throw new AksEmuError('AKS_EMU_USAGE', `container "${which}" in pod "${name}" is waiting to start`);
}

export function followPodLogsOf(
  runtime: PodRuntime,
  _namespace: string,
  _name: string,
  container: string | undefined,
  onLine: (line: string) => void,
): () => void {
  if (!runtime.followLogs) throw noLogs(runtime);
  return runtime.followLogs(container, onLine);
}

export function crashPodOf(runtime: PodRuntime, namespace: string, name: string): void {
  if (!runtime.crash) {
    throw new AksEmuError('AKS_EMU_USAGE', `pod ${namespace}/${name} is a built-in ${runtime.pod.runtime.kind} pod: only process pods have a process to kill`);
  }
  if (!runtime.crash()) throw new AksEmuError('AKS_EMU_USAGE', `pod ${namespace}/${name}: no container is running (it may be waiting in CrashLoopBackOff)`);
}
