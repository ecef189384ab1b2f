/**
 * How control reads what the roles keep (role-observe.ts): their /metrics text and their
 * traces, each read when control's own is read, and their trace streams followed while a
 * client follows control's. Trace ids are per role, so each trace says which role kept it
 * (`instance`: lb or the node's name).
 */
import { get, type ClientRequest } from 'node:http';

import type { TraceQuery, TraceView } from '../../dataplane/observe/traces.js';

/** A role that serves its observe endpoint. */
export interface RoleEndpoint {
  readonly job: 'lb' | 'node';
  readonly instance: string;
  readonly url: string;
}

const READ_TIMEOUT_MS = 3_000;
const TRACES_PATH = '/aks-emu/v1/traces';

/** GET → the body of a 200 answer; rejects otherwise. */
export function getText(url: string, timeoutMs = READ_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) resolve(text);
        else reject(new Error(`${url} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function traceQuery(query: TraceQuery, follow: boolean): string {
  const params = new URLSearchParams();
  if (query.service !== undefined) params.set('service', query.service);
  if (query.kind !== undefined) params.set('kind', query.kind);
  if (query.last !== undefined) params.set('last', String(query.last));
  if (follow) params.set('follow', '1');
  const text = params.toString();
  return text === '' ? TRACES_PATH : `${TRACES_PATH}?${text}`;
}

function tagged(view: TraceView, instance: string): TraceView {
  return { ...view, instance };
}

/** Every role's traces that match, oldest first by start, the latest `last` of them; a role that does not answer is logged and left out. */
export async function gatherTraces(roles: readonly RoleEndpoint[], query: TraceQuery, log: (line: string) => void): Promise<TraceView[]> {
  const lists = await Promise.all(
    roles.map(async (role) => {
      try {
        const list = JSON.parse(await getText(new URL(traceQuery(query, false), role.url).href)) as { items: TraceView[] };
        return list.items.map((v) => tagged(v, role.instance));
      } catch (err) {
        log(`traces of ${role.job} ${role.instance} left out: ${(err as Error).message}`);
        return [];
      }
    }),
  );
  const all = lists.flat().sort((a, b) => String(a.start).localeCompare(String(b.start)));
  return query.last === undefined ? all : all.slice(Math.max(0, all.length - query.last));
}

/** Follows every role's trace stream (server-sent events) until the returned function is called. */
export function followRoleTraces(
  roles: readonly RoleEndpoint[],
  query: TraceQuery,
  onTrace: (view: TraceView) => void,
  log: (line: string) => void,
): () => void {
  const requests: ClientRequest[] = [];
  for (const role of roles) {
    const req = get(new URL(traceQuery({ ...query, last: undefined }, true), role.url), (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        log(`trace stream of ${role.job} ${role.instance}: HTTP ${res.statusCode}`);
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
          const data = event
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data === '') continue;
          try {
            onTrace(tagged(JSON.parse(data) as TraceView, role.instance));
          } catch (err) {
            log(`trace stream of ${role.job} ${role.instance}: ${(err as Error).message}`);
          }
        }
      });
    });
    req.on('error', (err) => log(`trace stream of ${role.job} ${role.instance}: ${err.message}`));
    requests.push(req);
  }
  return () => {
    for (const req of requests) req.destroy();
  };
}
