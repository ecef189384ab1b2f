/**
 * Pod runtimes: what traffic finally reaches. Every runtime implements PodRuntime; the
 * ReadinessProber plays kubelet and decides when a pod's endpoints may receive traffic.
 */
export type { PodRuntime } from './pod-runtime.js';
export { createEchoPod, type EchoPodOptions } from './echo/echo-pod.js';
export {
  ReadinessProber,
  type ProbeEvent,
  type ReadinessEvent,
  type ReadinessProberOptions,
} from './readiness/readiness-prober.js';
