/**
 * An upstream connection NetworkPolicy drops, as nginx (or Envoy) meets it: the SYN is
 * never answered, so the proxy waits its whole connect timeout (proxy-connect-timeout,
 * 5 s by default) and then fails the try as a timeout: the next try, or 504.
 */
import type { ServerResponse } from 'node:http';
import type { Exchange, UpstreamOutcome } from './exchange.js';
import { connectTimeoutError } from '../netpol-gate.js';

export function dropUpstreamConnect(outcome: UpstreamOutcome, ex: Exchange, res: ServerResponse, address: string, timeoutMs: number): void {
  const timer = setTimeout(() => outcome.responseFailed(ex, res, connectTimeoutError(address, timeoutMs)), timeoutMs);
  // A client that gives up first ends the wait: there is nobody left to answer.
  res.once('close', () => clearTimeout(timer));
}
