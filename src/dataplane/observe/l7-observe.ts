import type { HttpCounters } from './http-counters.js';
import type { Traces } from './traces.js';

/** What an L7 pod needs to trace and count its requests: the cluster's trace store and route counters. */
export interface L7Observe {
  readonly traces: Traces;
  readonly http: HttpCounters;
}
