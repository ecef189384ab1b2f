/**
 * Pod runtimes: what traffic finally reaches. Every runtime implements PodRuntime; the
 * ReadinessProber plays kubelet and decides when a pod's endpoints may receive traffic.
 */
export type { PodRuntime } from './pod-runtime.js';
export { createEchoPod, type EchoPodOptions } from './echo/echo-pod.js';
export { ReadinessProber, type ProbeEvent, type ReadinessEvent, type ReadinessProberOptions } from './readiness/readiness-prober.js';
export { PodSet, podKey, type PodSetEvents, type PodSetOptions } from './pod-set.js';
export { choosePodKind, createPodRuntime, registerPodKind, type PodKindContext, type PodKindDefinition } from './kinds/index.js';
