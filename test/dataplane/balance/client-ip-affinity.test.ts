import { describe, expect, it } from 'vitest';

import { ClientIPAffinity } from '../../../src/dataplane/balance/client-ip-affinity.js';
import { FakeClock } from '../fake-clock.js';

describe('ClientIPAffinity', () => {
  it('sticks a client to its endpoint while it is used within the timeout', () => {
    const clock = new FakeClock();
    const affinity = new ClientIPAffinity(10_000, clock);
    affinity.record('10.0.0.1', '10.244.0.5:80');
    clock.advance(9_999);
    expect(affinity.lookup('10.0.0.1')).toBe('10.244.0.5:80');
    clock.advance(9_999);
    expect(affinity.lookup('10.0.0.1')).toBe('10.244.0.5:80');
    expect(affinity.lookup('10.0.0.2')).toBeUndefined();
  });

  it('forgets a client once the timeout has passed since its last use', () => {
    const clock = new FakeClock();
    const affinity = new ClientIPAffinity(10_000, clock);
    affinity.record('10.0.0.1', '10.244.0.5:80');
    clock.advance(10_000);
    expect(affinity.lookup('10.0.0.1')).toBeUndefined();
  });

  it('drops stickiness to endpoints that left the set', () => {
    const affinity = new ClientIPAffinity(10_000, new FakeClock());
    affinity.record('10.0.0.1', 'gone:80');
    affinity.record('10.0.0.2', 'kept:80');
    affinity.retain(new Map([['kept:80', {}]]));
    expect([affinity.lookup('10.0.0.1'), affinity.lookup('10.0.0.2')]).toEqual([undefined, 'kept:80']);
  });
});
