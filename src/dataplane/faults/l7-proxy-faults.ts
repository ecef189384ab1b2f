/**
 * The ingress proxy's side of rule faults: one call after routing. A status fault answers
 * with the controller's own page for that code (nginx's, or Envoy's for Gateway routes),
 * as ingress-nginx's error pages look; abort resets the client's connection; delay holds
 * the request; slow-body throttles the response.
 */
import type { ServerResponse } from 'node:http';

import type { FaultTable } from '../../faults/compile.js';
import type { Exchange } from '../ingress/exchange.js';
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
  const decisions = decideRuleFaults(table, ex.rule === undefined ? ex.location?.config.ingress : undefined, ex.rule?.config.route, random);
  if (decisions.length === 0) return false;
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
