/** Azure resource names as cloud-provider-azure gives them. */
import type { Protocol } from '../../model/types.js';

/**
 * cloudprovider.DefaultLoadBalancerName, which cloud-provider-azure uses for the frontend
 * IP configuration: 'a' + the Service uid without dashes, cut to 32 characters.
 */
export function frontendName(serviceUid: string): string {
  return `a${serviceUid.replaceAll('-', '')}`.slice(0, 32);
}

/** getLoadBalancerRuleName: `<frontend>-<PROTOCOL>-<port>`; probes of a port share the rule's name. */
export function ruleName(frontend: string, protocol: Protocol, port: number): string {
  return `${frontend}-${protocol}-${port}`;
}

/**
 * `kubernetes` / `kubernetes-internal` for ordinal 1, then `kubernetes-2`, ... when a limit
 * is reached. cloud-provider-azure's multiple-standard-load-balancer mode takes the names
 * from its configuration; aks-emu numbers them.
 */
export function loadBalancerName(internal: boolean, ordinal: number): string {
  const base = internal ? 'kubernetes-internal' : 'kubernetes';
  return ordinal <= 1 ? base : `${base}-${ordinal}`;
}

export function parseLoadBalancerName(name: string): { internal: boolean; ordinal: number } | undefined {
  const m = /^kubernetes(-internal)?(?:-([1-9]\d*))?$/.exec(name);
  if (!m) return undefined;
  return { internal: m[1] !== undefined, ordinal: m[2] === undefined ? 1 : Number(m[2]) };
}
