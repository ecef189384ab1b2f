/**
 * The part of autocannon 9's programmatic API the harness uses (it ships no types, and
 * @types/autocannon is not installed). Client internals are listed because the harness
 * adjusts two of them per client through the documented `setupClient` hook (see
 * autocannon-client.ts for why).
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';

  export interface ResponseHeadersInfo {
    readonly statusCode: number;
    readonly shouldKeepAlive: boolean;
  }

  export interface Client extends EventEmitter {
    conn: Socket;
    readonly pipelinedRequests: { clear(): void; size(): number };
    _connect(): void;
    _doRequest(): void;
  }

  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    /** Stop after this many requests in total instead of after `duration`. */
    amount?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    setupClient?: (client: Client) => void;
    /** Return the raw per-run result (with encoded histograms) instead of the aggregated one. */
    skipAggregateResult?: boolean;
    reconnectRate?: number;
  }

  export interface RawResult {
    readonly totalCompletedRequests: number;
    readonly totalRequests: number;
    readonly totalBytes: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly resets: number;
    readonly '2xx': number;
    /** Seconds, rounded to 10 ms. */
    readonly duration: number;
  }

  export default function autocannon(options: Options): Promise<RawResult> & EventEmitter;
}
