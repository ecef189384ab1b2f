/**
 * What an Ingress or HTTPRoute fault does to one request, decided after routing (so the
 * rule's identity is known) and before the request is proxied: answer a status instead,
 * hold the request, reset the connection, or send the body slowly. Probes of the
 * controller's own /healthz never get here: they are not routed to a rule.
 */
import type { ServerResponse } from 'node:http';

import { ruleFaultKey, type FaultTable } from '../../faults/compile.js';

export type RuleFaultDecision =
  | { readonly kind: 'status'; readonly code: number }
  | { readonly kind: 'abort' }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'slow-body'; readonly bytesPerSecond: number };

/**
 * The decisions for one request to the rule of `ingress` (`ns/name`) or `route`
 * (`HTTPRoute ns/name`), in the order the faults were added; empty: no fault applies.
 */
export function decideRuleFaults(
  table: FaultTable,
  ingress: string | undefined,
  route: string | undefined,
  path: string | undefined,
  random: () => number,
): RuleFaultDecision[] {
  const key =
    route !== undefined ? ruleFaultKey('httproute', route.slice(route.indexOf(' ') + 1)) : ingress !== undefined ? ruleFaultKey('ingress', ingress) : undefined;
  const faults = key === undefined ? undefined : table.rules.get(key);
  if (faults === undefined) return [];
  const decisions: RuleFaultDecision[] = [];
  for (const fault of faults) {
    const spec = fault.spec;
    if (spec.path !== undefined && spec.path !== path) continue;
    const state = fault.state;
    state.seen++;
    if (spec.type === 'status' && spec.first !== undefined) {
      if (state.seen > spec.first) continue;
    } else if (spec.fraction < 1 && random() >= spec.fraction) continue;
    state.fire();
    switch (spec.type) {
      case 'status':
        decisions.push({ kind: 'status', code: spec.code });
        break;
      case 'abort':
        decisions.push({ kind: 'abort' });
        break;
      case 'delay':
        decisions.push({ kind: 'delay', delayMs: spec.delayMs });
        break;
      case 'slow-body':
        decisions.push({ kind: 'slow-body', bytesPerSecond: spec.rateKBps * 1000 });
        break;
    }
  }
  return decisions;
}

/**
 * The response's body leaves at no more than bytesPerSecond: each write is held until
 * the link would have carried the bytes before it. Headers go at once.
 */
export function throttleResponse(res: ServerResponse, bytesPerSecond: number): void {
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  let free = Date.now();
  let pending = Promise.resolve();
  const later = (fn: () => void, bytes: number) => {
    const start = Math.max(Date.now(), free);
    free = start + (bytes * 1000) / bytesPerSecond;
    const due = free;
    pending = pending.then(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(
            () => {
              fn();
              resolve();
            },
            Math.max(0, due - Date.now()),
          ),
        ),
    );
  };
  const size = (chunk: unknown) => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0);
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!res.headersSent) res.flushHeaders();
    later(() => {
      if (!res.destroyed) write(chunk, ...rest);
    }, size(chunk));
    return true;
  }) as typeof res.write;
  res.end = ((...args: unknown[]) => {
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    later(() => {
      if (!res.destroyed) end(...args);
    }, size(chunk));
    return res;
  }) as typeof res.end;
}
