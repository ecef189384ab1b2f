/**
 * A Prometheus histogram kept as plain arrays: one count per bucket (not cumulative; the
 * exposition sums them), a sum and a count. observe() is a short linear scan, cheap next
 * to the socket work of a connection or a request.
 *
 * The bucket array is made on the first observation: the data plane keeps two histograms
 * per node and Service port (26,000 at 1,000 Services on 13 nodes) and most never see a
 * connection. An empty histogram reads as all zeros, so /metrics prints the same series
 * before and after (test/dataplane/observe/histogram.test.ts).
 */

/** Seconds: from a loopback hand-over (well under 1 ms) to long-lived flows. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);

export class Histogram {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; counts[bounds.length]: above the last bound. Undefined until the first observation. */
  #counts: number[] | undefined = undefined;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = DURATION_BUCKETS) {}

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    (this.#counts ??= new Array<number>(bounds.length + 1).fill(0))[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per bound, then +Inf (the exposition's `le` series). */
  cumulative(): number[] {
    const counts = this.#counts;
    if (counts === undefined) return new Array<number>(this.bounds.length + 1).fill(0);
    const out: number[] = [];
    let running = 0;
    for (const c of counts) out.push((running += c));
    return out;
  }
}
