import { describe, expect, it } from 'vitest';

import { RoundRobin } from '../../../src/dataplane/balance/round-robin.js';

describe('RoundRobin', () => {
  it('cycles through the items in order', () => {
    const rr = new RoundRobin<string>();
    const items = ['a', 'b', 'c'];
    expect(Array.from({ length: 7 }, () => rr.select(items))).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('returns undefined for an empty set and keeps going when the set changes size', () => {
    const rr = new RoundRobin<string>();
    expect(rr.select([])).toBeUndefined();
    expect(rr.select(['a', 'b', 'c'])).toBe('a');
    expect(rr.select(['a', 'b'])).toBe('b');
    expect(rr.select(['a', 'b'])).toBe('a');
  });
});
