import type { Selector } from './selector.js';

/** Equal-weight random choice, like the iptables proxier's statistic match. */
export class RandomSelection<T> implements Selector<T> {
  constructor(private readonly random: () => number) {}

  select(items: readonly T[]): T | undefined {
    const count = items.length;
    if (count === 0) return undefined;
    return items[Math.min(count - 1, Math.floor(this.random() * count))];
  }
}
