/**
 * The shared Azure load balancers as programmed for the current Services: frontends,
 * rules and probes per LB, and the backend pool. AKS registers every node in the pool
 * `kubernetes` except those labelled node.kubernetes.io/exclude-from-external-load-balancers
 * (or not managed by Azure); a cordoned node stays. Probes decide which of them get new flows. The public LB `kubernetes`
 * always exists (AKS creates it with the cluster for outbound traffic); the others exist
 * while they hold a frontend.
 */
import type { ClusterConfig } from '../../config/types.js';
import { objectKey, type Service } from '../../model/types.js';
import { nodePortKey } from '../allocators/node-port.js';
import type { Allocation } from '../allocate.js';
import type { FrontendIPConfiguration, LoadBalancerInfo, LoadBalancerProbe, LoadBalancingRule } from '../snapshot.js';
import { programmedByAzure } from './frontends.js';
import { loadBalancerName, parseLoadBalancerName } from './names.js';
import { buildServiceRules } from './rules.js';
import { excludedFromLoadBalancers, type NodeSpec } from '../nodes.js';

interface Draft {
  readonly frontends: FrontendIPConfiguration[];
  readonly rules: LoadBalancingRule[];
  readonly probes: LoadBalancerProbe[];
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function lbOrder(a: string, b: string): number {
  const pa = parseLoadBalancerName(a);
  const pb = parseLoadBalancerName(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  return Number(pa.internal) - Number(pb.internal) || pa.ordinal - pb.ordinal;
}

export function buildLoadBalancers(
  services: readonly Service[],
  allocation: Allocation,
  config: ClusterConfig,
  nodes: readonly Pick<NodeSpec, 'name' | 'labels'>[] = config.nodes.map((name) => ({ name, labels: {} })),
): LoadBalancerInfo[] {
  const drafts = new Map<string, Draft>([[loadBalancerName(false, 1), { frontends: [], rules: [], probes: [] }]]);
  for (const service of services.filter(programmedByAzure)) {
    const key = objectKey(service.metadata);
    const frontend = allocation.frontends[key];
    if (frontend?.ip === undefined) continue;
    let draft = drafts.get(frontend.loadBalancerName);
    if (!draft) drafts.set(frontend.loadBalancerName, (draft = { frontends: [], rules: [], probes: [] }));
    draft.frontends.push({ name: frontend.frontendName, ip: frontend.ip, serviceKey: key });
    const hcnp = allocation.healthCheckNodePorts[key];
    const { rules, probes } = buildServiceRules({
      service,
      serviceKey: key,
      frontend: { name: frontend.frontendName, ip: frontend.ip },
      nodePorts: service.spec.ports.map((p) => allocation.nodePorts[nodePortKey(key, p)]),
      ...(hcnp === undefined ? {} : { healthCheckNodePort: hcnp }),
      distribution: config.distribution,
    });
    draft.rules.push(...rules);
    draft.probes.push(...probes);
  }
  return [...drafts.entries()]
    .sort(([a], [b]) => lbOrder(a, b))
    .map(([name, draft]) => ({
      name,
      internal: parseLoadBalancerName(name)?.internal ?? false,
      frontends: draft.frontends.sort(byName),
      rules: draft.rules.sort(byName),
      probes: draft.probes.sort(byName),
      backendPool: nodes.filter((n) => !excludedFromLoadBalancers(n.labels)).map((n) => n.name),
    }));
}
