/**
 * `kubectl logs`: GET pods/<name>/log reads what a LogSource has for the pod's container.
 * The runtime that runs a pod's containers fills the source (the echo pod's access log,
 * a process's output); without one the answer says so instead of inventing lines.
 */
import { ApiStatusError } from '../../errors/index.js';
import type { RequestContext } from '../server.js';

export interface LogSource {
  /** The lines a pod's container wrote, oldest first; undefined when the runtime keeps none. */
  lines(namespace: string, pod: string, container: string | undefined): readonly string[] | undefined;
  /** New lines as they are written, until the returned function is called. */
  follow?(namespace: string, pod: string, container: string | undefined, onLine: (line: string) => void): () => void;
}

export function serveLogs(source: LogSource | undefined, ctx: RequestContext, namespace: string, pod: string): void {
  const q = ctx.target.query;
  const container = q.get('container') ?? undefined;
  const lines = source?.lines(namespace, pod, container);
  if (!source || lines === undefined) {
    throw new ApiStatusError('BadRequest', `logs of pod "${pod}" are not available: its runtime keeps no log`);
  }
  const tail = q.get('tailLines');
  const shown = tail !== null && Number.isInteger(Number(tail)) && Number(tail) >= 0 ? lines.slice(Math.max(0, lines.length - Number(tail))) : lines;
  const res = ctx.res;
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  for (const line of shown) res.write(`${line}\n`);
  if (q.get('follow') !== 'true' || !source.follow) {
    res.end();
    return;
  }
  const stop = source.follow(namespace, pod, container, (line) => res.write(`${line}\n`));
  res.on('close', stop);
}
