import type { ServiceSpec } from './types.js';

/** What the API server fills in for a Service spec that leaves these out (core/v1 defaults). */
export const SERVICE_SPEC_DEFAULTS = {
  sessionAffinity: 'None',
  sessionAffinityTimeoutSeconds: 10800,
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  loadBalancerSourceRanges: [],
  allocateLoadBalancerNodePorts: true,
  publishNotReadyAddresses: false,
} as const satisfies Partial<ServiceSpec>;
