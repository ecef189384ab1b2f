/** What the harness asks of the load generator, and what it gets back. */

export interface RoundSpec {
  /** Target and mode, e.g. `keepalive/lb`: latencies of recorded rounds accumulate under it. */
  readonly key: string;
  readonly url: string;
  readonly hostHeader: string;
  readonly sourceAddress?: string;
  readonly connections: number;
  readonly pipelining: number;
  readonly durationS: number;
  /** A new connection for every request (`Connection: close`). */
  readonly churn: boolean;
  /** false for warm-up: nothing is kept. */
  readonly record: boolean;
}

export interface RoundResult {
  /** Completed responses, whatever their status. */
  readonly requests: number;
  readonly ok: number;
  readonly bytes: number;
  readonly durationS: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}

export interface ProbeSpec {
  readonly url: string;
  readonly hostHeader: string;
  readonly sourceAddress?: string;
  readonly timeoutMs: number;
}

export interface ProbeResult {
  readonly status: number;
  readonly bodyBytes: number;
}
