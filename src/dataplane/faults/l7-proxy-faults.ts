/**
 * The ingress proxy's side of rule faults: one call after routing. A status fault answers
 * with the controller's own page for that code (nginx's, or Envoy's for Gateway routes),
 * as ingress-nginx's error pages look; abort resets the client's connection; delay holds
 * the request; slow-body throttles the response.
 */
import type { ServerResponse } from 'node:http';

import type { FaultTable } from '../../faults/compile.js';
import type { Exchange, UpstreamOutcome } from '../ingress/exchange.js';
import { decideRuleFaults, throttleResponse } from './l7-faults.js';

/**
 * True when the fault took the request over: it will call `proceed` (answer: reply with
 * ex.status; else proxy) or has ended the connection.
 */
export function applyRuleFaults(
  table: FaultTable,
  ex: Exchange,
  res: ServerResponse,
  random: () => number,
  proceed: (ex: Exchange, res: ServerResponse, answer: boolean) => void,
): boolean {
  const decisions = decideRuleFaults(
    table,
    ex.rule === undefined ? ex.location?.config.ingress : undefined,
    ex.rule?.config.route,
    ex.location?.config.path,
    random,
  );
  if (decisions.length === 0) return false;
  if (ex.observed !== undefined) ex.observed.faults = decisions.map((d) => (d.kind === 'status' ? `status ${d.code}` : d.kind));
  let delayMs = 0;
  for (const d of decisions) {
    switch (d.kind) {
      case 'abort':
        ex.req.socket.resetAndDestroy();
        return true;
      case 'status':
        ex.status = d.code;
        break;
      case 'delay':
        delayMs += d.delayMs;
        break;
      case 'slow-body':
        throttleResponse(res, d.bytesPerSecond);
        break;
    }
  }
  const answer = decisions.some((d) => d.kind === 'status');
  if (delayMs > 0) {
    const timer = setTimeout(() => {
      if (!res.destroyed) proceed(ex, res, answer);
    }, delayMs);
    res.once('close', () => clearTimeout(timer));
  } else {
    proceed(ex, res, answer);
  }
  return true;
}

/**
 * Pod and node faults on the controller's own upstream connections, which reach the pod
 * without kube-proxy: a hung pod is connected to and never answers, so the request fails
 * as a read timeout after proxy-read-timeout (504, or the next upstream for a retryable
 * request); a pod in slow start answers late; a pod on a slow node answers after the
 * node's latency both ways. True: the dispatch was taken over.
 */
export function deferForPodFault(
  table: FaultTable,
  endpoint: { readonly ip: string; readonly nodeName?: string | undefined },
  readTimeoutMs: number,
  ex: Exchange,
  res: ServerResponse,
  dispatch: (ex: Exchange, res: ServerResponse) => void,
  outcome: UpstreamOutcome,
): boolean {
  const pod = table.pods.get(endpoint.ip);
  if (pod?.hang !== undefined) {
    pod.hang.state.fire();
    if (readTimeoutMs > 0) {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error('upstream timed out (the pod never answered)'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
        outcome.responseFailed(ex, res, err);
      }, readTimeoutMs);
      res.once('close', () => clearTimeout(timer));
    }
    return true;
  }
  let delayMs = 0;
  const slow = endpoint.nodeName === undefined ? undefined : table.nodes.get(endpoint.nodeName)?.slow;
  if (slow !== undefined) {
    slow.state.fire();
    const jitter = slow.spec.jitterMs > 0 ? (Math.random() * 2 - 1) * slow.spec.jitterMs : 0;
    delayMs += 2 * Math.max(0, slow.spec.delayMs + jitter);
  }
  const slowStart = pod?.slowStart;
  if (slowStart !== undefined) {
    const left = 1 - (Date.now() - slowStart.startedAt) / slowStart.spec.windowMs;
    if (left > 0) {
      slowStart.state.fire();
      delayMs += Math.round(slowStart.spec.delayMs * left);
    }
  }
  if (delayMs === 0) return false;
  const timer = setTimeout(() => dispatch(ex, res), delayMs);
  res.once('close', () => clearTimeout(timer));
  return true;
}
