/**
 * `aks-emu trace [--service NS/NAME] [--kind tcp|http] [--last N] [-f] [-o json]`: the
 * latest connection and request traces from the admin API (GET /aks-emu/v1/traces), one
 * line each; -f keeps printing each one as it ends (the API's server-sent events).
 */
import { adminRequest, adminStream, serverUrl } from '../admin-client.js';
import { intFlag, parseCommand, usageError } from '../args.js';
import { formatTrace, type TraceLike } from '../trace-printer.js';

export const traceHelp = `Show how connections and HTTP requests crossed the hops: LB frontend, rule, node,
kube-proxy's decision, endpoint and the source the pod saw; for HTTP the Ingress rule or route,
rewrite, upstream and each try. Traces are kept in a bounded ring (the latest 2048).

Usage: aks-emu trace [--service NS/NAME] [--kind tcp|http] [--last N] [-f] [-o json] [--server HOST:PORT]

Flags:
  -s, --service NS/NAME   only traces that reached this Service (NAME alone: namespace default)
      --kind tcp|http     only connections (tcp) or HTTP requests through an L7 pod (http)
      --last N            the latest N (default 20; with -f, printed before following)
  -f, --follow            keep printing each trace as its connection or request ends
  -o, --output json       one JSON object per line instead of the summary line`;

export async function trace(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommand('trace', argv, {
    service: { type: 'string', short: 's' },
    kind: { type: 'string' },
    last: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
    output: { type: 'string', short: 'o' },
    server: { type: 'string' },
  });
  if (values.help) {
    out(traceHelp);
    return 0;
  }
  if (positionals.length > 0) throw usageError('trace', `unexpected argument "${positionals[0]}" (use --service NS/NAME)`);
  if (values.output !== undefined && values.output !== 'json') throw usageError('trace', `invalid value "${values.output}" for flag -o: must be json`);
  if (values.kind !== undefined && values.kind !== 'tcp' && values.kind !== 'http') {
    throw usageError('trace', `invalid value "${values.kind}" for flag --kind: must be tcp or http`);
  }
  const last = intFlag('trace', '--last', values.last, 1, 100_000) ?? 20;
  const query = new URLSearchParams();
  if (values.service !== undefined) query.set('service', values.service);
  if (values.kind !== undefined) query.set('kind', values.kind);
  query.set('last', String(last));
  const print = (t: TraceLike) => out(values.output === 'json' ? JSON.stringify(t) : formatTrace(t));
  const server = serverUrl(values.server);
  if (!values.follow) {
    const list = (await adminRequest(server, `/aks-emu/v1/traces?${query}`)) as { items: TraceLike[] };
    for (const t of list.items) print(t);
    return 0;
  }
  query.set('follow', '1');
  await followTraces(server, query, print);
  return 0;
}

async function followTraces(server: string, query: URLSearchParams, print: (t: TraceLike) => void): Promise<void> {
  const body = await adminStream(server, `/aks-emu/v1/traces?${query}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data !== '') print(JSON.parse(data) as TraceLike);
    }
  }
}
