/**
 * What a cluster keeps to be looked at: the trace store every hop writes to (the data
 * plane's flows, the L7 pods' requests), the L7 route counters, the LB probes'
 * transitions, and where the faults' `fired` counts come from. /metrics is rendered from
 * these and the data plane's counters when it is read.
 */
import type { RouteRequests } from '../api/dashboard/model.js';
import type { Snapshot } from '../cluster/snapshot.js';
import type { DataPlane } from '../dataplane/index.js';
import { HttpCounters } from '../dataplane/observe/http-counters.js';
import { ProbeTransitions, renderMetrics, type FaultFired } from '../dataplane/observe/metrics.js';
import type { L7Observe } from '../dataplane/observe/l7-observe.js';
import { Traces, type TraceQuery, type TraceView } from '../dataplane/observe/traces.js';

export type { FaultFired } from '../dataplane/observe/metrics.js';

/**
 * Perf only (perf/README.md, `npm run perf -- --hooks-ab`): `AKS_EMU_PERF_HOOKS=off` starts an
 * embedded cluster whose data plane makes no per-connection flow record and whose L7 pods
 * get no request observer, so what those hooks cost can be measured beside a normal build.
 * Such a cluster has no traces, no per-hop or per-route counters and no access log.
 */
export function perfHooksOff(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.AKS_EMU_PERF_HOOKS === 'off';
}

export class Observability {
  readonly traces: Traces;
  readonly http = new HttpCounters();
  readonly probeTransitions = new ProbeTransitions();
  /** false only under AKS_EMU_PERF_HOOKS=off: the flow and request hooks are not wired. */
  readonly hooks: boolean;
  #faults: (() => readonly FaultFired[]) | undefined;

  constructor(traceCapacity?: number, hooks = !perfHooksOff()) {
    this.traces = new Traces(traceCapacity);
    this.hooks = hooks;
  }

  /** What the L7 pods trace and count their requests with; undefined when the hooks are off. */
  l7(): L7Observe | undefined {
    return this.hooks ? { traces: this.traces, http: this.http } : undefined;
  }

  /** The fault registry's list, read at each /metrics (its `fired` counts become aks_emu_fault_fired_total). */
  setFaultSource(faults: () => readonly FaultFired[]): void {
    this.#faults = faults;
  }

  metrics(dataPlane: DataPlane, snapshot: Snapshot | undefined): string {
    const counters = dataPlane.counters();
    return renderMetrics({
      snapshot,
      counters,
      global: counters.global,
      probes: dataPlane.probeStatus(),
      probeTransitions: this.probeTransitions,
      probeAnswers: dataPlane.probeAnswers(),
      http: this.http,
      ...(this.#faults === undefined ? {} : { faults: this.#faults() }),
    });
  }

  /** Per route, backend Service and L7 pod: requests answered, and of them 5xx answers and abort-fault resets (the dashboard's route edges). */
  routeRequests(): RouteRequests[] {
    const rows: RouteRequests[] = [];
    for (const r of this.http.routes()) {
      const { kind, namespace, route, service } = r.labels;
      for (const [pod, c] of r.byPod) rows.push({ kind, namespace, route, service, pod, requests: c.requests, errors: c.errors });
    }
    return rows;
  }

  query(query: TraceQuery): TraceView[] {
    return this.traces.query(query);
  }

  follow(query: TraceQuery, onTrace: (view: TraceView) => void): () => void {
    return this.traces.follow(query, onTrace);
  }
}
