import { describe, expect, it } from 'vitest';
import { allocate } from '../../../src/cluster/allocate.js';
import { config, fixedRandom, loadBalancer, manifests } from '../factories.js';

const A = 'service.beta.kubernetes.io/';

describe('LoadBalancer Services without a frontend', () => {
  it('start, and each says why in one warning line with the SyncLoadBalancerFailed message', () => {
    const services = [
      loadBalancer('ok'),
      loadBalancer('outside', { namespace: 'shop', annotations: { [`${A}azure-load-balancer-ipv4`]: '10.9.9.9' } }),
      loadBalancer('subnet', { annotations: { [`${A}azure-load-balancer-internal`]: 'true', [`${A}azure-load-balancer-internal-subnet`]: 'apps' } }),
    ];
    const { errors, warnings, allocation } = allocate(manifests({ services }), config(), fixedRandom());
    expect(errors).toEqual([]);
    expect(allocation.frontends['default/ok']!.ip).toBe('127.20.0.1');
    expect(warnings).toEqual([
      'Service shop/outside: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address 10.9.9.9 in resource group mc_aks-emu (public frontends come from 127.20.0.0/16)',
      'Service default/subnet: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: ensure(default/subnet): lb(kubernetes-internal) - failed to get subnet: aks-vnet/apps (aks-emu.yaml subnets: has aks-subnet)',
    ]);
  });
});
