/**
 * Everything that can be wrong with a manifest set before anything listens: allocation
 * (ClusterIPs, NodePorts, LB annotations) and the ingress controller's own checks, over
 * the user's objects plus the built-in ones (a NodePort the controller took is taken).
 */
import { allocate, type Allocation } from '../cluster/index.js';
import type { ClusterConfig } from '../config/types.js';
import { validateIngresses } from '../cluster/ingress/index.js';
import type { FieldError } from '../errors/index.js';
import type { Manifests } from '../model/types.js';
import { withIngressController } from './ingress.js';
import { withGatewayInfrastructure } from '../cluster/gateway/index.js';

export interface CheckResult {
  /** What the cluster runs: the user's manifests plus built-in objects. */
  readonly effective: Manifests;
  readonly allocation: Allocation;
  readonly errors: FieldError[];
}

export function checkManifests(manifests: Manifests, config: ClusterConfig, random: () => number, previous?: Allocation): CheckResult {
  const effective = withGatewayInfrastructure(withIngressController(manifests, config));
  const { allocation, errors } = allocate(effective, config, random, previous);
  if (config.ingress.enabled) errors.push(...validateIngresses(effective));
  return { effective, allocation, errors };
}
