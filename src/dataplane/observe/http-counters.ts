/**
 * Per-route counters of the L7 pods (the ingress controller and the Gateways): requests
 * by status, latency and bytes, labelled with the Ingress or route, host, path and
 * backend Service, as ingress-nginx's own nginx_ingress_controller_requests labels them.
 * A request finds its counters through its compiled location (a WeakMap, so a router
 * rebuilt on a snapshot swap starts new lookups but the counters, keyed by their labels,
 * carry on).
 */
import type { Exposition, Labels } from './exposition.js';
import { Histogram } from './histogram.js';

export interface RouteLabels {
  /** Ingress, HTTPRoute, GRPCRoute, or '' for the controller's own answers (default backend, redirects without a route). */
  readonly kind: string;
  readonly namespace: string;
  readonly route: string;
  readonly host: string;
  readonly path: string;
  /** `namespace/name` of the backend Service ('' when there is none). */
  readonly service: string;
}

/** Requests of one route through one L7 pod, and of them 5xx answers and abort-fault resets. */
export interface PodRequests {
  requests: number;
  errors: number;
}

/** Status codes counted by index (100-599, HTTP's range); any other code a Map. */
const STATUS_SLOTS = 600;

export class RouteCounters {
  /** Requests per response status code: counts[status], so a request adds to a slot found by its code. */
  readonly #byStatus = new Array<number>(STATUS_SLOTS).fill(0);
  readonly #otherStatuses = new Map<number, number>();
  readonly duration = new Histogram();
  /** Upstream tries that failed and were retried on another endpoint. */
  retries = 0;
  /**
   * Per L7 pod (`namespace/name`): requests, and of them 5xx answers and requests an abort
   * fault reset (recorded as 499, no answer sent). The dashboard's route edges read these;
   * /metrics keeps its labels without the pod, as ingress-nginx's do.
   */
  readonly byPod = new Map<string, PodRequests>();
  requestBytes = 0;
  responseBytes = 0;

  constructor(readonly labels: RouteLabels) {}

  /** Requests per response status code, made when read. */
  get statuses(): Map<number, number> {
    const out = new Map<number, number>();
    this.#byStatus.forEach((count, status) => {
      if (count > 0) out.set(status, count);
    });
    for (const [status, count] of this.#otherStatuses) out.set(status, count);
    return out;
  }

  /** One pod's counts: the pod keeps it, so a request does not look its pod up. */
  forPod(pod: string): PodRequests {
    let perPod = this.byPod.get(pod);
    if (perPod === undefined) this.byPod.set(pod, (perPod = { requests: 0, errors: 0 }));
    return perPod;
  }

  record(status: number, seconds: number, requestBytes: number, responseBytes: number, tries: number, perPod: PodRequests, faultAborted: boolean): void {
    if (status >= 0 && status < STATUS_SLOTS && Number.isInteger(status)) this.#byStatus[status]!++;
    else this.#otherStatuses.set(status, (this.#otherStatuses.get(status) ?? 0) + 1);
    perPod.requests++;
    if ((status >= 500 && status <= 599) || faultAborted) perPod.errors++;
    this.duration.observe(seconds);
    this.requestBytes += requestBytes;
    this.responseBytes += responseBytes;
    if (tries > 1) this.retries += tries - 1;
  }
}

export class HttpCounters {
  readonly #byLabels = new Map<string, RouteCounters>();
  readonly #byLocation = new WeakMap<object, RouteCounters>();

  /** The counters of a compiled location (or server, for requests no location took). */
  forLocation<A>(location: object, labels: (arg: A) => RouteLabels, arg: A): RouteCounters {
    let counters = this.#byLocation.get(location);
    if (counters === undefined) {
      const l = labels(arg);
      const key = `${l.kind}|${l.namespace}|${l.route}|${l.host}|${l.path}|${l.service}`;
      counters = this.#byLabels.get(key);
      if (counters === undefined) this.#byLabels.set(key, (counters = new RouteCounters(l)));
      this.#byLocation.set(location, counters);
    }
    return counters;
  }

  routes(): Iterable<RouteCounters> {
    return this.#byLabels.values();
  }

  render(out: Exposition): void {
    for (const r of this.#byLabels.values()) {
      const labels: Labels = { ...r.labels };
      const requests = out.counter('aks_emu_http_requests_total', 'HTTP requests the ingress controller or a Gateway answered, per route and response status.');
      for (const [status, count] of r.statuses) requests.set({ ...labels, status }, count);
      out
        .histogram('aks_emu_http_request_duration_seconds', "From reading the request to the end of the response (nginx's $request_time).")
        .observe(labels, r.duration);
      out.counter('aks_emu_http_request_bytes_total', 'Bytes of requests (line, headers and declared body) per route.').set(labels, r.requestBytes);
      out.counter('aks_emu_http_response_body_bytes_total', 'Bytes of response bodies sent to clients per route.').set(labels, r.responseBytes);
      out
        .counter('aks_emu_http_upstream_retries_total', 'Upstream tries that failed and went to the next endpoint (proxy_next_upstream).')
        .set(labels, r.retries);
    }
  }
}
