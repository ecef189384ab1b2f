import type { Selector } from './selector.js';

/** Nothing but a counter: the userspace proxier's round robin, and the LB's default spread. */
export class RoundRobin<T> implements Selector<T> {
  private next = 0;

  select(items: readonly T[]): T | undefined {
    const count = items.length;
    if (count === 0) return undefined;
    const item = items[this.next % count];
    this.next = (this.next + 1) % 0x7fffffff;
    return item;
  }
}
