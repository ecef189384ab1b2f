import { describe, expect, it } from 'vitest';
import { allocateClusterIPs } from '../../../src/cluster/allocators/cluster-ip.js';
import { formatFieldError } from '../../../src/errors/index.js';
import { parseIPv4 } from '../../../src/manifests/ip.js';
import { fixedRandom, seeded, service } from '../factories.js';

const CIDR = '10.0.0.0/16';
const ip = (s: string) => parseIPv4(s)!;

describe('ClusterIP allocation', () => {
  it('allocates from the dynamic band, above the 256 lowest addresses of a /16', () => {
    const { clusterIPs, errors } = allocateClusterIPs([service('a'), service('b')], CIDR, fixedRandom(0));
    expect(errors).toEqual([]);
    expect(clusterIPs['default/a']).toBe('10.0.1.1');
    expect(clusterIPs['default/b']).toBe('10.0.1.2');
  });

  it('never hands out the network or broadcast address', () => {
    const { clusterIPs } = allocateClusterIPs([service('a')], CIDR, fixedRandom(0.9999999));
    expect(clusterIPs['default/a']).toBe('10.0.255.254');
  });

  it('spreads random allocations over the dynamic band', () => {
    const services = Array.from({ length: 50 }, (_, i) => service(`s${i}`));
    const { clusterIPs } = allocateClusterIPs(services, CIDR, seeded(7));
    const values = Object.values(clusterIPs);
    expect(new Set(values).size).toBe(50);
    for (const v of values) expect(ip(v)).toBeGreaterThanOrEqual(ip('10.0.1.1'));
  });

  it('honours a requested address in range, including the static band', () => {
    const { clusterIPs, errors } = allocateClusterIPs([service('a', { clusterIP: '10.0.0.50' })], CIDR, fixedRandom());
    expect(errors).toEqual([]);
    expect(clusterIPs['default/a']).toBe('10.0.0.50');
  });

  it('reserves .1 for kubernetes.default and .10 for kube-dns', () => {
    const { errors } = allocateClusterIPs([service('a', { clusterIP: '10.0.0.1' }), service('b', { clusterIP: '10.0.0.10' })], CIDR, fixedRandom());
    expect(errors.map(formatFieldError)).toEqual([
      'spec.clusterIPs: Invalid value: ["10.0.0.1"]: failed to allocate IP 10.0.0.1: provided IP is already allocated',
      'spec.clusterIPs: Invalid value: ["10.0.0.10"]: failed to allocate IP 10.0.0.10: provided IP is already allocated',
    ]);
  });

  it('rejects an address outside the range with the API server wording', () => {
    const { errors, clusterIPs } = allocateClusterIPs([service('web', { clusterIP: '10.1.0.5' })], CIDR, fixedRandom());
    expect(clusterIPs['default/web']).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'Service', name: 'web', namespace: 'default', field: 'spec.clusterIPs' });
    expect(formatFieldError(errors[0]!)).toBe(
      'spec.clusterIPs: Invalid value: ["10.1.0.5"]: failed to allocate IP 10.1.0.5: the provided IP (10.1.0.5) is not in the valid range. The range of valid IPs is 10.0.0.0/16',
    );
  });

  it('treats the network and broadcast addresses as out of range', () => {
    const { errors } = allocateClusterIPs([service('a', { clusterIP: '10.0.0.0' }), service('b', { clusterIP: '10.0.255.255' })], CIDR, fixedRandom());
    expect(errors.map((e) => e.detail)).toEqual([expect.stringContaining('is not in the valid range'), expect.stringContaining('is not in the valid range')]);
  });

  it('gives a requested address to the first Service that asks and reports the second', () => {
    const { clusterIPs, errors } = allocateClusterIPs([service('a', { clusterIP: '10.0.5.5' }), service('b', { clusterIP: '10.0.5.5' })], CIDR, fixedRandom());
    expect(clusterIPs['default/a']).toBe('10.0.5.5');
    expect(errors.map((e) => e.name)).toEqual(['b']);
  });

  it('serves requested addresses before random ones so a random pick never steals them', () => {
    const { clusterIPs, errors } = allocateClusterIPs([service('random'), service('fixed', { clusterIP: '10.0.1.1' })], CIDR, fixedRandom(0));
    expect(errors).toEqual([]);
    expect(clusterIPs['default/fixed']).toBe('10.0.1.1');
    expect(clusterIPs['default/random']).toBe('10.0.1.2');
  });

  it('falls back to the static band when the dynamic band is full', () => {
    // A /27 has 32 addresses: static band 16 (.1-.16), dynamic .17-.30.
    const services = Array.from({ length: 15 }, (_, i) => service(`s${i}`));
    const { clusterIPs, errors } = allocateClusterIPs(services, '10.0.0.0/27', fixedRandom(0));
    expect(errors).toEqual([]);
    expect(clusterIPs['default/s14']).toBe('10.0.0.2');
  });

  it('reports a full range', () => {
    // A /29 has .1-.6 usable, and .1 is kubernetes.default's: five fit, the sixth does not.
    const services = Array.from({ length: 6 }, (_, i) => service(`s${i}`));
    const { errors } = allocateClusterIPs(services, '10.0.0.0/29', fixedRandom(0));
    expect(errors.map(formatFieldError)).toEqual(['spec.clusterIPs: Invalid value: []: failed to allocate a serviceIP: range is full']);
  });

  it('gives headless and ExternalName Services no address', () => {
    const { clusterIPs } = allocateClusterIPs(
      [service('h', { clusterIP: 'None' }), service('x', { type: 'ExternalName', externalName: 'example.com' })],
      CIDR,
      fixedRandom(),
    );
    expect(clusterIPs).toEqual({});
  });

  it('keeps the previous address of a re-applied Service and releases removed ones', () => {
    const previous = { 'default/a': '10.0.77.7', 'default/gone': '10.0.1.1' };
    const { clusterIPs } = allocateClusterIPs([service('a'), service('b')], CIDR, fixedRandom(0), previous);
    expect(clusterIPs).toEqual({ 'default/a': '10.0.77.7', 'default/b': '10.0.1.1' });
  });

  it('moves a Service to a newly requested address', () => {
    const { clusterIPs } = allocateClusterIPs([service('a', { clusterIP: '10.0.0.99' })], CIDR, fixedRandom(), { 'default/a': '10.0.77.7' });
    expect(clusterIPs['default/a']).toBe('10.0.0.99');
  });

  it('keeps an existing Service address over a new Service that requests it', () => {
    const { clusterIPs, errors } = allocateClusterIPs([service('new', { clusterIP: '10.0.77.7' }), service('old')], CIDR, fixedRandom(), {
      'default/old': '10.0.77.7',
    });
    expect(clusterIPs['default/old']).toBe('10.0.77.7');
    expect(errors.map((e) => [e.name, e.detail])).toEqual([['new', 'failed to allocate IP 10.0.77.7: provided IP is already allocated']]);
  });
});
