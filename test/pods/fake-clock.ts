import type { Clock } from '../../src/dataplane/clock.js';

/** A clock that moves only when told: timers fire in due order during advance(). */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves time forward by ms, firing every timer due on the way (including ones set meanwhile). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = target;
  }

  /** When the earliest pending timer is due; undefined when none is pending. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const { at } of this.#timers.values()) if (due === undefined || at < due) due = at;
    return due;
  }

  get pending(): number {
    return this.#timers.size;
  }
}
