import { describe, expect, it } from 'vitest';

import { EndpointBalancer } from '../../../src/dataplane/balance/endpoint-balancer.js';
import { RandomSelection } from '../../../src/dataplane/balance/random.js';
import { RoundRobin } from '../../../src/dataplane/balance/round-robin.js';
import { FakeClock } from '../fake-clock.js';

interface Endpoint {
  readonly key: string;
}

const endpoints: Endpoint[] = ['a:80', 'b:80', 'c:80'].map((key) => ({ key }));
const byKey = new Map(endpoints.map((e) => [e.key, e]));

function balancer(affinityTimeoutMs?: number): EndpointBalancer<Endpoint> {
  const b = new EndpointBalancer<Endpoint>(new FakeClock(), new RoundRobin());
  b.configure(new RoundRobin(), affinityTimeoutMs, byKey);
  return b;
}

describe('EndpointBalancer', () => {
  it('follows its selection without affinity', () => {
    const b = balancer();
    expect([1, 2, 3, 4].map(() => b.pick(endpoints, byKey, '10.0.0.1', false)?.key)).toEqual(['a:80', 'b:80', 'c:80', 'a:80']);
  });

  it('sticks per client with affinity, and a fresh pick moves the client on', () => {
    const b = balancer(10_000);
    expect(b.pick(endpoints, byKey, '10.0.0.1', false)?.key).toBe('a:80');
    expect(b.pick(endpoints, byKey, '10.0.0.1', false)?.key).toBe('a:80');
    expect(b.pick(endpoints, byKey, '10.0.0.2', false)?.key).toBe('b:80');
    expect(b.pick(endpoints, byKey, '10.0.0.1', true)?.key).toBe('c:80');
    expect(b.pick(endpoints, byKey, '10.0.0.1', false)?.key).toBe('c:80');
  });

  it('ignores a sticky endpoint that is not among the candidates', () => {
    const b = balancer(10_000);
    expect(b.pick(endpoints, byKey, '10.0.0.1', false)?.key).toBe('a:80');
    const local = endpoints.slice(1);
    expect(b.pick(local, new Map(local.map((e) => [e.key, e])), '10.0.0.1', false)?.key).not.toBe('a:80');
  });

  it('drops stickiness when reconfigured without affinity, and uses the new selection', () => {
    const b = balancer(10_000);
    b.pick(endpoints, byKey, '10.0.0.1', false);
    b.configure(new RandomSelection(() => 0.5), undefined, byKey);
    expect([1, 2, 3].map(() => b.pick(endpoints, byKey, '10.0.0.1', false)?.key)).toEqual(['b:80', 'b:80', 'b:80']);
  });
});
