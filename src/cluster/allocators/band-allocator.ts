/**
 * The allocator shape Kubernetes uses for ClusterIPs and NodePorts (KEP-3070, KEP-3668):
 * a contiguous range whose lowest values form a "static" band kept for explicit requests.
 * Random allocation takes the dynamic band first and falls back to the static band only
 * when the dynamic one is full, so user-chosen values rarely collide with random ones.
 */

export type ClaimResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-in-range' }
  | { readonly ok: false; readonly reason: 'allocated'; readonly owner: string };

/**
 * min(max(min, size/step), max), and no static band for tiny ranges: calculateRangeOffset
 * in pkg/registry/core/service/ipallocator (16, 256, 16) and portallocator (16, 128, 32).
 */
export function staticBandSize(rangeSize: number, min: number, max: number, step: number): number {
  if (rangeSize <= min) return 0;
  return Math.min(Math.max(min, Math.floor(rangeSize / step)), max);
}

export class BandAllocator {
  readonly first: number;
  readonly last: number;
  readonly #staticEnd: number;
  /** value → owner tag (a Service key, or a reservation name). */
  readonly #used = new Map<number, string>();
  /**
   * For some taken values v: a w > v such that every value in [v, w) is taken. Values are
   * never released, so the pointers stay true; following and shortening them (path
   * compression) finds the next free value in amortised near-constant time, and a full
   * range answers at once instead of being walked for every further Service.
   */
  readonly #skip = new Map<number, number>();

  /** Values first..last inclusive; the lowest `staticSize` of them are the static band. */
  constructor(first: number, last: number, staticSize: number) {
    this.first = first;
    this.last = last;
    this.#staticEnd = first + staticSize;
  }

  contains(value: number): boolean {
    return Number.isInteger(value) && value >= this.first && value <= this.last;
  }

  ownerOf(value: number): string | undefined {
    return this.#used.get(value);
  }

  claim(value: number, owner: string): ClaimResult {
    if (!this.contains(value)) return { ok: false, reason: 'not-in-range' };
    const current = this.#used.get(value);
    if (current !== undefined) return { ok: false, reason: 'allocated', owner: current };
    this.#used.set(value, owner);
    return { ok: true };
  }

  /** A free value: random start in the dynamic band, scanning upwards with wrap-around; then the static band. */
  next(owner: string, random: () => number): number | undefined {
    const value = this.#scan(this.#staticEnd, this.last, random) ?? this.#scan(this.first, this.#staticEnd - 1, random);
    if (value !== undefined) this.#used.set(value, owner);
    return value;
  }

  /** Kubernetes' random-scan strategy: a random start in [from, to], then the next free value upwards, wrapping once. */
  #scan(from: number, to: number, random: () => number): number | undefined {
    const size = to - from + 1;
    if (size <= 0) return undefined;
    const start = from + Math.min(size - 1, Math.floor(random() * size));
    return this.#firstFree(start, to) ?? this.#firstFree(from, start - 1);
  }

  /** The lowest free value in [from, to]. */
  #firstFree(from: number, to: number): number | undefined {
    let value = from;
    const path: number[] = [];
    while (value <= to && this.#used.has(value)) {
      path.push(value);
      value = this.#skip.get(value) ?? value + 1;
    }
    for (const taken of path) this.#skip.set(taken, value);
    return value <= to ? value : undefined;
  }
}
