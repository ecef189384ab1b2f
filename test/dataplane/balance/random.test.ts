import { describe, expect, it } from 'vitest';

import { RandomSelection } from '../../../src/dataplane/balance/random.js';

describe('RandomSelection', () => {
  it('maps the injected random number onto the items with equal weight', () => {
    const values = [0, 0.34, 0.67, 0.999999];
    const random = new RandomSelection<string>(() => values.shift() ?? 0);
    const items = ['a', 'b', 'c'];
    expect(Array.from({ length: 4 }, () => random.select(items))).toEqual(['a', 'b', 'c', 'c']);
    expect(random.select([])).toBeUndefined();
  });
});
