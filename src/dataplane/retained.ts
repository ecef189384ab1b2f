/**
 * State that must outlive a snapshot swap (round-robin counters, affinity maps,
 * counters) as long as its key still exists in the new snapshot. A compile marks the
 * keys it uses; `prune()` then forgets the rest.
 */
export class Retained<T> {
  private readonly entries = new Map<string, T>();
  private used = new Set<string>();

  get(key: string, create: () => T): T {
    this.used.add(key);
    let value = this.entries.get(key);
    if (value === undefined) {
      value = create();
      this.entries.set(key, value);
    }
    return value;
  }

  values(): IterableIterator<T> {
    return this.entries.values();
  }

  /** Forget every key the last compile did not ask for. */
  prune(onRemove?: (value: T) => void): void {
    for (const [key, value] of this.entries) {
      if (this.used.has(key)) continue;
      this.entries.delete(key);
      onRemove?.(value);
    }
    this.used = new Set();
  }
}
