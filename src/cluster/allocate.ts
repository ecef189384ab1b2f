/**
 * Everything the control plane hands out and must keep stable across re-applies:
 * ClusterIPs, NodePorts, health check ports, LB frontends, pod placements and addresses.
 * It is plain JSON, so a runtime can persist it or pass it between processes; passing
 * the previous one back keeps what still exists and releases what does not.
 */
import type { ClusterConfig } from '../config/types.js';
import type { FieldError } from '../errors/index.js';
import { objectKey, type Manifests } from '../model/types.js';
import { allocateClusterIPs } from './allocators/cluster-ip.js';
import { allocateNodePorts } from './allocators/node-port.js';
import { sortBySource } from './field-errors.js';
import { allocateFrontends, programmedByAzure, type FrontendAllocation } from './loadbalancer/frontends.js';
import { validateLoadBalancerAnnotations } from './loadbalancer/validate.js';
import { pendingFrontendWarnings } from './loadbalancer/sync-failures.js';
import { nodeSpecs } from './nodes.js';
import { pendingPodWarnings } from './pod-pending.js';
import { schedule, type PodPlacement } from './scheduler.js';
import { desiredPods } from './workload-pods.js';
import type { RuntimeFacts } from './build-snapshot.js';

export type { FrontendAllocation } from './loadbalancer/frontends.js';
export type { PodPlacement } from './scheduler.js';

export interface Allocation {
  /** Service key → ClusterIP (headless and ExternalName Services have none). */
  readonly clusterIPs: Readonly<Record<string, string>>;
  /** `ns/name:port/PROTOCOL` (nodePortKey) → NodePort. */
  readonly nodePorts: Readonly<Record<string, number>>;
  /** Service key → healthCheckNodePort. */
  readonly healthCheckNodePorts: Readonly<Record<string, number>>;
  /** Service key → its Azure LB frontend (LB name, frontend name, IP or pending reason). */
  readonly frontends: Readonly<Record<string, FrontendAllocation>>;
  /** `ns/pod` → node, IP and uid; a pod without a node is Pending. */
  readonly pods: Readonly<Record<string, PodPlacement>>;
  /** Node name → host number of its /24 from which the next pod address is sought. */
  readonly nextPodIP: Readonly<Record<string, number>>;
}

export interface AllocateResult {
  readonly allocation: Allocation;
  /** Every problem at once, in Kubernetes' wording; non-empty means the manifests must not start. */
  readonly errors: FieldError[];
  /** What starts but not as asked (pods left Pending, LoadBalancer Services without a frontend), one line each. */
  readonly warnings: string[];
}

/** What the runtime knows that changes placement: node labels and cordons, evicted pods. */
export type PlacementFacts = Pick<RuntimeFacts, 'nodeMeta' | 'evictedPods'>;

export function allocate(manifests: Manifests, config: ClusterConfig, rng: () => number, previous?: Allocation, facts: PlacementFacts = {}): AllocateResult {
  const { services } = manifests;
  const clusterIPs = allocateClusterIPs(services, config.addresses.serviceCIDR, rng, previous?.clusterIPs);
  const ports = allocateNodePorts(services, rng, previous);
  const nodes = nodeSpecs(config, facts.nodeMeta);
  const pods = desiredPods(manifests, nodes, facts.evictedPods);
  const placements = schedule(pods, nodes, previous, config.maxPods);
  const frontends = allocateFrontends(services, config, nodes, previous?.frontends);
  const annotationErrors = services
    .filter(programmedByAzure)
    .flatMap((s) => validateLoadBalancerAnnotations(s, ports.healthCheckNodePorts[objectKey(s.metadata)]));

  return {
    allocation: {
      clusterIPs: clusterIPs.clusterIPs,
      nodePorts: ports.nodePorts,
      healthCheckNodePorts: ports.healthCheckNodePorts,
      frontends: frontends.frontends,
      pods: placements.pods,
      nextPodIP: placements.nextPodIP,
    },
    errors: sortBySource([...clusterIPs.errors, ...ports.errors, ...frontends.errors, ...annotationErrors]),
    warnings: [...pendingPodWarnings(pods, placements.pods, config.maxPods), ...pendingFrontendWarnings(frontends.frontends)],
  };
}
