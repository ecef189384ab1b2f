/**
 * Load-balancing rules of one Service (getExpectedLBRules in cloud-provider-azure): one
 * per TCP/UDP port on the Service's frontend, unless `port_{port}_no_lb_rule` is "true".
 * Floating IP is on unless `azure-disable-load-balancer-floating-ip`: with it the backend
 * port is the Service port (kube-proxy matches the frontend IP), without it the NodePort.
 */
import type { Distribution } from '../../config/types.js';
import type { Service, ServicePort } from '../../model/types.js';
import type { LoadBalancerProbe, LoadBalancingRule } from '../snapshot.js';
import { ANNOTATIONS, idleTimeoutMinutes, isTrue, portAnnotation, sourceRanges } from './annotations.js';
import { ruleName } from './names.js';
import { healthCheckProbe, portProbe } from './probes.js';

export interface RuleInput {
  readonly service: Service;
  readonly serviceKey: string;
  readonly frontend: { readonly name: string; readonly ip: string };
  /** The NodePort of each ServicePort, by index (undefined when none was allocated). */
  readonly nodePorts: readonly (number | undefined)[];
  readonly healthCheckNodePort?: number;
  readonly distribution: Distribution;
}

export interface ServiceRules {
  readonly rules: LoadBalancingRule[];
  readonly probes: LoadBalancerProbe[];
}

/** Azure LB rules carry TCP and UDP; SCTP has no public rule, and aks-emu does not forward it. */
export function rulePorts(service: Service): { port: ServicePort; index: number }[] {
  return service.spec.ports
    .map((port, index) => ({ port, index }))
    .filter(({ port }) => port.protocol !== 'SCTP' && !isTrue(service.metadata.annotations, portAnnotation(port.port, 'no_lb_rule')));
}

export function buildServiceRules(input: RuleInput): ServiceRules {
  const { service, frontend } = input;
  const annotations = service.metadata.annotations;
  const floating = !isTrue(annotations, ANNOTATIONS.disableFloatingIP);
  const local = service.spec.externalTrafficPolicy === 'Local' && input.healthCheckNodePort !== undefined;
  const shared = local ? healthCheckProbe(service, frontend.name, input.healthCheckNodePort!) : undefined;
  const common = {
    frontendName: frontend.name,
    frontendIP: frontend.ip,
    serviceKey: input.serviceKey,
    // AKS sets SourceIP distribution for sessionAffinity ClientIP.
    distribution: service.spec.sessionAffinity === 'ClientIP' ? ('source-ip' as const) : input.distribution,
    idleTimeoutMinutes: idleTimeoutMinutes(service).value,
    enableTcpReset: !isTrue(annotations, ANNOTATIONS.disableTcpReset),
    enableFloatingIP: floating,
    sourceRanges: sourceRanges(service),
  };

  const rules: LoadBalancingRule[] = [];
  const probes = new Map<string, LoadBalancerProbe>();
  for (const { port, index } of rulePorts(service)) {
    const nodePort = input.nodePorts[index];
    const backendPort = floating ? port.port : nodePort;
    // Without floating IP and without a NodePort (allocateLoadBalancerNodePorts false) Azure refuses the rule.
    if (backendPort === undefined) continue;
    const name = ruleName(frontend.name, port.protocol, port.port);
    let probe: LoadBalancerProbe | undefined;
    if (!isTrue(annotations, portAnnotation(port.port, 'no_probe_rule'))) {
      probe = shared ?? (nodePort === undefined ? undefined : portProbe(service, port, nodePort, name));
    }
    if (probe) probes.set(probe.name, probe);
    rules.push({
      ...common,
      name,
      frontendPort: port.port,
      protocol: port.protocol,
      backendPort,
      servicePortName: port.name,
      ...(probe ? { probeName: probe.name } : {}),
    });
  }
  return { rules, probes: [...probes.values()] };
}
