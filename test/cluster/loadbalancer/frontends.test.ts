import { describe, expect, it } from 'vitest';
import { allocateFrontends, type FrontendAllocation } from '../../../src/cluster/loadbalancer/frontends.js';
import { frontendName } from '../../../src/cluster/loadbalancer/names.js';
import { nodeSpecs } from '../../../src/cluster/nodes.js';
import type { ClusterConfig } from '../../../src/config/types.js';
import { formatFieldError } from '../../../src/errors/index.js';
import type { Service } from '../../../src/model/types.js';
import { config, loadBalancer, service } from '../factories.js';

const A = 'service.beta.kubernetes.io/';
const internal = { [`${A}azure-load-balancer-internal`]: 'true' };

function frontends(services: Service[], cfg: ClusterConfig = config(), previous?: Record<string, FrontendAllocation>) {
  return allocateFrontends(services, cfg, nodeSpecs(cfg), previous);
}

describe('LB frontends', () => {
  it('gives public Services the next address of the public range on the LB kubernetes', () => {
    const web = loadBalancer('web', { uid: '0b9e8f5c-1c2d-4e5f-8a9b-0c1d2e3f4a5b' });
    const { frontends: f, errors } = frontends([web, loadBalancer('api')]);
    expect(errors).toEqual([]);
    expect(f['default/web']).toEqual({ internal: false, loadBalancerName: 'kubernetes', frontendName: 'a0b9e8f5c1c2d4e5f8a9b0c1d2e3f4a5', ip: '127.20.0.1' });
    expect(f['default/api']!.ip).toBe('127.20.0.2');
  });

  it('names the frontend a + the uid without dashes, cut to 32 characters', () => {
    expect(frontendName('0b9e8f5c-1c2d-4e5f-8a9b-0c1d2e3f4a5b')).toBe('a0b9e8f5c1c2d4e5f8a9b0c1d2e3f4a5');
  });

  it('gives internal Services the first free node subnet address after the nodes, on kubernetes-internal', () => {
    const annotations = { [`${A}azure-load-balancer-internal`]: 'True' };
    const { frontends: f } = frontends([loadBalancer('in', { annotations })]);
    expect(f['default/in']).toMatchObject({ internal: true, loadBalancerName: 'kubernetes-internal', ip: '127.224.0.7' });
  });

  it('takes internal addresses from the internal-subnet annotation when it is a CIDR', () => {
    const svc = loadBalancer('in', { annotations: { ...internal, [`${A}azure-load-balancer-internal-subnet`]: '127.225.1.0/24' } });
    expect(frontends([svc]).frontends['default/in']!.ip).toBe('127.225.1.4');
  });

  it('takes a subnet name mapped in aks-emu.yaml, and aks-subnet for the node subnet', () => {
    const cfg = config({ subnets: { 'apps-subnet': '127.225.3.0/24' } });
    const named = (name: string, subnet: string, ip?: string) =>
      loadBalancer(name, { ...(ip ? { loadBalancerIP: ip } : {}), annotations: { ...internal, [`${A}azure-load-balancer-internal-subnet`]: subnet } });
    const { frontends: f, errors } = frontends(
      [named('apps', 'apps-subnet'), named('fixed', 'apps-subnet', '127.225.3.40'), named('nodes', 'aks-subnet')],
      cfg,
    );
    expect(errors).toEqual([]);
    expect([f['default/apps']!.ip, f['default/fixed']!.ip, f['default/nodes']!.ip]).toEqual(['127.225.3.4', '127.225.3.40', '127.224.0.7']);
  });

  it('leaves a Service whose subnet name is unknown pending with cloud-provider-azure words, not an error', () => {
    const svc = loadBalancer('in', { namespace: 'shop', annotations: { ...internal, [`${A}azure-load-balancer-internal-subnet`]: 'apps-subnet' } });
    const { frontends: f, errors } = frontends([svc]);
    expect(errors).toEqual([]);
    expect(f['shop/in']).toMatchObject({ internal: true, loadBalancerName: 'kubernetes-internal' });
    expect(f['shop/in']!.ip).toBeUndefined();
    expect(f['shop/in']!.pendingReason).toBe(
      'ensure(shop/in): lb(kubernetes-internal) - failed to get subnet: aks-vnet/apps-subnet (aks-emu.yaml subnets: has aks-subnet)',
    );
  });

  it('honours azure-load-balancer-ipv4 before spec.loadBalancerIP', () => {
    const svc = loadBalancer('web', { loadBalancerIP: '127.20.0.9', annotations: { [`${A}azure-load-balancer-ipv4`]: '127.20.0.50' } });
    const legacy = loadBalancer('old', { loadBalancerIP: '127.20.0.9' });
    const { frontends: f } = frontends([svc, legacy, loadBalancer('auto')]);
    expect([f['default/web']!.ip, f['default/old']!.ip, f['default/auto']!.ip]).toEqual(['127.20.0.50', '127.20.0.9', '127.20.0.1']);
  });

  it('keeps a Service pending with a reason when the requested address cannot be used', () => {
    const cases = [
      loadBalancer('outside', { loadBalancerIP: '10.9.9.9' }),
      loadBalancer('garbage', { loadBalancerIP: 'not-an-ip' }),
      loadBalancer('first', { loadBalancerIP: '127.20.0.5' }),
      loadBalancer('second', { loadBalancerIP: '127.20.0.5' }),
      loadBalancer('node', { loadBalancerIP: '127.224.0.4', annotations: internal }),
    ];
    const { frontends: f, errors } = frontends([...cases, loadBalancer('annotated', { annotations: { [`${A}azure-load-balancer-ipv4`]: '999.1.1.1' } })]);
    // Only what is not an address at all is an error (the API server refuses it); the rest waits, as on AKS.
    expect(errors.map(formatFieldError)).toEqual([
      'spec.loadBalancerIP: Invalid value: "not-an-ip": the requested load balancer IP "not-an-ip" is not a valid IPv4 address',
      `metadata.annotations[${A}azure-load-balancer-ipv4]: Invalid value: "999.1.1.1": the requested load balancer IP "999.1.1.1" is not a valid IPv4 address`,
    ]);
    expect(f['default/first']!.ip).toBe('127.20.0.5');
    const pending = Object.entries(f)
      .filter(([, v]) => v.ip === undefined)
      .map(([k, v]) => [k, v.pendingReason]);
    expect(pending).toEqual([
      [
        'default/outside',
        'findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address 10.9.9.9 in resource group mc_aks-emu (public frontends come from 127.20.0.0/16)',
      ],
      ['default/garbage', 'the requested load balancer IP "not-an-ip" is not a valid IPv4 address'],
      ['default/second', 'the public IP 127.20.0.5 is already the frontend of Service default/first (aks-emu does not share one frontend between Services)'],
      [
        'default/node',
        `Code="PrivateIPAddressIsAllocated" Message="IP configuration ${frontendName(cases[4]!.metadata.uid)} is using the private IP address 127.224.0.4 which is already allocated to resource node node-0."`,
      ],
      ['default/annotated', 'the requested load balancer IP "999.1.1.1" is not a valid IPv4 address'],
    ]);
  });

  it("answers with Azure's codes for private addresses outside the subnet or in its reserved range", () => {
    const reserved = loadBalancer('reserved', { loadBalancerIP: '127.224.0.3', annotations: internal });
    const outside = loadBalancer('outside', { loadBalancerIP: '127.20.0.9', annotations: internal });
    const { frontends: f } = frontends([reserved, outside]);
    expect(f['default/reserved']!.pendingReason).toBe(
      'Code="PrivateIPAddressInReservedRange" Message="Private static IP address 127.224.0.3 falls within reserved IP range of subnet prefix 127.224.0.0/16."',
    );
    expect(f['default/outside']!.pendingReason).toBe(
      'Code="PrivateIPAddressNotInSubnet" Message="Private static IP address 127.20.0.9 does not belong to the range of subnet prefix 127.224.0.0/16."',
    );
  });

  it('does not program ClusterIP Services or LoadBalancer Services of another loadBalancerClass', () => {
    const { frontends: f } = frontends([service('plain'), loadBalancer('other', { loadBalancerClass: 'example.com/lb' })]);
    expect(f).toEqual({});
  });

  it('moves to kubernetes-2 when a load balancer reaches its frontend limit', () => {
    const cfg = config({ maxFrontendsPerLoadBalancer: 2 });
    const { frontends: f } = frontends([loadBalancer('a'), loadBalancer('b'), loadBalancer('c'), loadBalancer('i', { annotations: internal })], cfg);
    expect(Object.values(f).map((v) => v.loadBalancerName)).toEqual(['kubernetes', 'kubernetes', 'kubernetes-2', 'kubernetes-internal']);
  });

  it('moves to another load balancer when the rules would exceed the limit', () => {
    const cfg = config({ maxRulesPerLoadBalancer: 3 });
    const two = (name: string) =>
      loadBalancer(name, {
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 443 },
        ],
      });
    const { frontends: f } = frontends([two('a'), two('b'), loadBalancer('c')], cfg);
    expect(Object.values(f).map((v) => v.loadBalancerName)).toEqual(['kubernetes', 'kubernetes-2', 'kubernetes']);
  });

  it('leaves a Service with more rules than one load balancer holds pending', () => {
    const cfg = config({ maxRulesPerLoadBalancer: 1 });
    const svc = loadBalancer('big', {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 443 },
      ],
    });
    expect(frontends([svc], cfg).frontends['default/big']).toMatchObject({
      pendingReason: 'the Service needs 2 load-balancing rules, more than the 1 one load balancer may hold',
    });
  });

  it('gives addresses in order until the range is full, then a pending reason to every further Service', () => {
    const cfg = config({ addresses: { ...config().addresses, publicFrontends: '127.20.0.0/29' } });
    const services = [...Array.from({ length: 8 }, (_, i) => loadBalancer(`p${i}`)), loadBalancer('i', { annotations: internal })];
    const { frontends: f } = frontends(services, cfg);
    expect(Array.from({ length: 6 }, (_, i) => f[`default/p${i}`]!.ip)).toEqual([
      '127.20.0.1',
      '127.20.0.2',
      '127.20.0.3',
      '127.20.0.4',
      '127.20.0.5',
      '127.20.0.6',
    ]);
    for (const late of ['default/p6', 'default/p7']) {
      expect(f[late]).toMatchObject({ pendingReason: 'no free address left in the public frontend range 127.20.0.0/29' });
      expect(f[late]!.ip).toBeUndefined();
    }
    expect(f['default/i']!.ip).toBe('127.224.0.7');
  });

  it('keeps address and load balancer of re-applied Services and releases removed ones', () => {
    const cfg = config({ maxFrontendsPerLoadBalancer: 1 });
    const first = frontends([loadBalancer('a'), loadBalancer('b')], cfg).frontends;
    expect(first['default/b']).toMatchObject({ loadBalancerName: 'kubernetes-2', ip: '127.20.0.2' });
    const second = frontends([loadBalancer('b'), loadBalancer('c')], cfg, first).frontends;
    expect(second['default/b']).toMatchObject({ loadBalancerName: 'kubernetes-2', ip: '127.20.0.2' });
    expect(second['default/c']).toMatchObject({ loadBalancerName: 'kubernetes', ip: '127.20.0.1' });
  });

  it('gives a new address when a Service switches between public and internal', () => {
    const first = frontends([loadBalancer('a')]).frontends;
    const second = frontends([loadBalancer('a', { annotations: internal })], config(), first).frontends;
    expect(second['default/a']).toMatchObject({ internal: true, loadBalancerName: 'kubernetes-internal', ip: '127.224.0.7' });
  });
});
