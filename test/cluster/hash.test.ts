import { describe, expect, it } from 'vitest';
import { safeEncode, stableUid } from '../../src/cluster/hash.js';
import { loadBalancerName, parseLoadBalancerName, ruleName } from '../../src/cluster/loadbalancer/names.js';

describe('generated names', () => {
  it('use only the Kubernetes name alphabet and are stable per seed', () => {
    expect(safeEncode('web/0', 5)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(safeEncode('web/0', 10)).toBe(safeEncode('web/0', 10));
    expect(safeEncode('web/0', 10)).not.toBe(safeEncode('web/1', 10));
  });

  it('make version-4-shaped uids', () => {
    expect(stableUid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableUid('x')).toBe(stableUid('x'));
  });
});

describe('Azure LB names', () => {
  it('number load balancers past the first and parse them back', () => {
    expect([loadBalancerName(false, 1), loadBalancerName(false, 2), loadBalancerName(true, 1), loadBalancerName(true, 3)]).toEqual([
      'kubernetes',
      'kubernetes-2',
      'kubernetes-internal',
      'kubernetes-internal-3',
    ]);
    expect(parseLoadBalancerName('kubernetes-internal-3')).toEqual({ internal: true, ordinal: 3 });
    expect(parseLoadBalancerName('kubernetes')).toEqual({ internal: false, ordinal: 1 });
    expect(parseLoadBalancerName('other')).toBeUndefined();
  });

  it('name rules <frontend>-<PROTOCOL>-<port>', () => {
    expect(ruleName('afe', 'UDP', 53)).toBe('afe-UDP-53');
  });
});
