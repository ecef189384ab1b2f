/**
 * Latency with microsecond resolution. autocannon's own histogram records whole
 * milliseconds, and on loopback a p99 is often 1-3 ms: a 1.2 × goal cannot be judged at
 * that grain. 1 µs buckets up to 65.5 ms, then 1 ms buckets up to 65.5 s; max is exact.
 */
const FINE_BUCKETS = 65_536;
const COARSE_BUCKETS = 65_536;

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class LatencyHistogram {
  readonly #fine = new Uint32Array(FINE_BUCKETS);
  readonly #coarse = new Uint32Array(COARSE_BUCKETS);
  #count = 0;
  #maxMs = 0;

  record(ms: number): void {
    this.#count++;
    if (ms > this.#maxMs) this.#maxMs = ms;
    const us = Math.round(ms * 1000);
    if (us < FINE_BUCKETS) this.#fine[us]!++;
    else this.#coarse[Math.min(COARSE_BUCKETS - 1, Math.round(ms))]!++;
  }

  get count(): number {
    return this.#count;
  }

  /** The smallest recorded value v such that at least q of all values are ≤ v, in ms. */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let us = 0; us < FINE_BUCKETS; us++) {
      seen += this.#fine[us]!;
      if (seen >= rank) return us / 1000;
    }
    for (let ms = 0; ms < COARSE_BUCKETS; ms++) {
      seen += this.#coarse[ms]!;
      if (seen >= rank) return Math.min(ms, this.#maxMs);
    }
    return this.#maxMs;
  }

  summary(): LatencySummary {
    return { count: this.#count, p50Ms: this.percentile(0.5), p99Ms: this.percentile(0.99), maxMs: this.#maxMs };
  }
}
