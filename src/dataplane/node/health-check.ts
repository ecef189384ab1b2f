/**
 * kube-proxy's two HTTP health endpoints, with its exact bodies:
 * - the healthCheckNodePort of a Service (pkg/proxy/healthcheck/service_health.go): any
 *   path; 200 with at least one local ready endpoint, else 503; an indented JSON body;
 * - the proxier's :10256 /healthz and /livez (proxier_health.go).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Clock } from '../clock.js';

export const KUBE_PROXY_HEALTHZ_PORT = 10256;

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** Go's `%q` of an ASCII string is its JSON form. */
const quote = JSON.stringify;

/** The dedented template of service_health.go, tabs and all. */
export function serviceHealthBody(namespace: string, name: string, localEndpoints: number): string {
  return [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${quote(namespace)},`,
    `\t\t"name": ${quote(name)}`,
    '\t},',
    `\t"localEndpoints": ${localEndpoints},`,
    '\t"serviceProxyHealthy": true',
    '}',
  ].join('\n');
}

/** The status of every answer of a healthCheckNodePort: the path and the rest of the request do not matter. */
export function serviceHealthStatus(localEndpoints: number): 200 | 503 {
  return localEndpoints > 0 ? 200 : 503;
}

export function respondServiceHealth(response: ServerResponse, namespace: string, name: string, localEndpoints: number): void {
  send(response, serviceHealthStatus(localEndpoints), 'application/json', serviceHealthBody(namespace, name, localEndpoints));
}

/**
 * Go's time.Time String() in UTC with its monotonic reading:
 * `2024-05-14 10:31:52.123 +0000 UTC m=+12.345000000`.
 */
export function goTimeString(ms: number, monotonicMs: number): string {
  const iso = new Date(ms).toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  const seconds = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction === '' ? '' : `.${fraction}`}`;
  return `${seconds} +0000 UTC m=+${(monotonicMs / 1000).toFixed(9)}`;
}

/**
 * The proxier health server of a running node: always synced (the data plane applies a
 * snapshot whole) and eligible, so 200 with lastUpdated = currentTime, as kube-proxy
 * reports when healthy. Other paths get Go's ServeMux 404.
 */
export function respondProxierHealth(request: IncomingMessage, response: ServerResponse, clock: Clock, startedAt: number): void {
  const path = (request.url ?? '/').split('?')[0];
  const now = clock.now();
  const time = quote(goTimeString(now, now - startedAt));
  if (path === '/healthz') {
    send(response, 200, 'application/json', `{"lastUpdated": ${time},"currentTime": ${time}, "nodeEligible": true}`);
  } else if (path === '/livez') {
    send(response, 200, 'application/json', `{"lastUpdated": ${time},"currentTime": ${time}}`);
  } else {
    send(response, 404, 'text/plain; charset=utf-8', '404 page not found\n');
  }
}
