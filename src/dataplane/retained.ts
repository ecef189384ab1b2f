/**
 * State that must outlive a snapshot swap (round-robin counters, affinity maps,
 * counters) as long as its key still exists in the new snapshot. A compile marks the
 * keys it uses; `prune()` then forgets the rest.
 *
 * A key is marked with the number of the compile that used it (not added to a set of
 * used keys), so a compile of 13 nodes × 1,000 Service ports builds no set of its own
 * and a key asked for again is one map lookup.
 */
interface Entry<T> {
  readonly value: T;
  used: number;
}

export class Retained<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private compile = 0;

  get(key: string, create: () => T): T {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { value: create(), used: this.compile };
      this.entries.set(key, entry);
    } else {
      entry.used = this.compile;
    }
    return entry.value;
  }

  *values(): IterableIterator<T> {
    for (const entry of this.entries.values()) yield entry.value;
  }

  /** Forget every key the last compile did not ask for. */
  prune(onRemove?: (value: T) => void): void {
    for (const [key, entry] of this.entries) {
      if (entry.used === this.compile) continue;
      this.entries.delete(key);
      onRemove?.(entry.value);
    }
    this.compile++;
  }
}
