/**
 * A bounded ring of the latest records: push overwrites the oldest once full, so memory
 * stays fixed however long aks-emu runs. Followers hear of records as they complete.
 */
export class Ring<T> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #size = 0;
  readonly #followers = new Set<(item: T) => void>();

  constructor(readonly capacity: number) {
    this.#items = new Array<T | undefined>(Math.max(0, capacity));
  }

  /** Keeps the item; returns the one it dropped to make room (the item itself when the ring keeps none). */
  push(item: T): T | undefined {
    if (this.capacity === 0) return item;
    const dropped = this.#size === this.capacity ? this.#items[this.#next] : undefined;
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    return dropped;
  }

  /** Oldest first. */
  items(): T[] {
    const out: T[] = [];
    const start = (this.#next - this.#size + this.capacity) % Math.max(1, this.capacity);
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(start + i) % this.capacity] as T);
    return out;
  }

  get following(): boolean {
    return this.#followers.size > 0;
  }

  /** Calls onItem for every record announced from now on, until the returned function is called. */
  follow(onItem: (item: T) => void): () => void {
    this.#followers.add(onItem);
    return () => this.#followers.delete(onItem);
  }

  announce(item: T): void {
    for (const follower of this.#followers) follower(item);
  }
}
