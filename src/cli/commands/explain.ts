import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';
import { explainFlowCommand } from './explain-flow.js';

export const explainHelp = `Explain which Ingress rule or Gateway route a request would take, and why, without sending it.

Usage: aks-emu explain ingress --host HOST [--path /P?Q] [--scheme http|https] [-X METHOD]
                               [--header 'K: V']... [--cookie k=v]... [--client IP] [-o json]
       aks-emu explain route --gateway NS/NAME --host HOST [--path /P?Q] [--port N] [-X METHOD]
                             [--header 'K: V']... [-o json]
       aks-emu explain flow --from pod/NAME|node/NAME|IP --to pod/NAME|svc/NAME|IP [--port N|NAME]
                            [--via node/NAME] [-n NS] [-o json]

For a flow: which NetworkPolicy allows or drops it, per endpoint of a Service.

For a route: the Gateway listener's host, every rule in precedence order with the first
condition that fails, the filters, and the weighted backends with their endpoints.

Shows the server (exact, wildcard or default host), whether regex mode is on for the host
and which Ingress turned it on, the location that matched and by which rule, the rewritten
path, redirects, the Service, its candidate endpoints and the canary decision.`;

export async function explain(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommand('explain', argv, {
    host: { type: 'string' },
    path: { type: 'string' },
    scheme: { type: 'string' },
    request: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    cookie: { type: 'string', multiple: true },
    client: { type: 'string' },
    gateway: { type: 'string' },
    port: { type: 'string' },
    output: { type: 'string', short: 'o' },
    server: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    via: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
  });
  if (values.help) {
    out(explainHelp);
    return 0;
  }
  const [what, extra] = positionals;
  if (what === 'flow') return explainFlowCommand(values, extra, out);
  if (what === 'route') return explainRouteCommand(values, extra, out);
  if (what !== 'ingress' && what !== 'ing') throw usageError('explain', 'expected: explain ingress --host HOST --path PATH, explain route or explain flow');
  if (extra) throw usageError('explain', `unexpected argument "${extra}"`);
  if (!values.host) throw usageError('explain', 'the flag --host is required');
  if (values.output !== undefined && values.output !== 'json') throw usageError('explain', `invalid value "${values.output}" for flag -o: must be json`);
  const q = new URLSearchParams({ host: values.host, path: values.path ?? '/' });
  if (values.scheme) q.set('scheme', values.scheme);
  if (values.request) q.set('method', values.request);
  if (values.client) q.set('client', values.client);
  for (const h of values.header ?? []) q.append('header', h);
  for (const c of values.cookie ?? []) q.append('cookie', c);
  const result = (await adminRequest(serverUrl(values.server), `/aks-emu/v1/explain/ingress?${q}`)) as { explanation: unknown; text: string };
  out(values.output === 'json' ? JSON.stringify(result.explanation, null, 2) : result.text);
  return 0;
}

async function explainRouteCommand(
  values: { gateway?: string; host?: string; path?: string; port?: string; request?: string; header?: string[]; output?: string; server?: string },
  extra: string | undefined,
  out: (line: string) => void,
): Promise<number> {
  if (extra) throw usageError('explain', `unexpected argument "${extra}"`);
  if (!values.gateway) throw usageError('explain', 'the flag --gateway is required (NAMESPACE/NAME)');
  if (!values.host) throw usageError('explain', 'the flag --host is required');
  if (values.port !== undefined && !/^[0-9]+$/.test(values.port))
    throw usageError('explain', `invalid value "${values.port}" for flag --port: must be a port number`);
  if (values.output !== undefined && values.output !== 'json') throw usageError('explain', `invalid value "${values.output}" for flag -o: must be json`);
  const q = new URLSearchParams({ gateway: values.gateway, host: values.host, path: values.path ?? '/' });
  if (values.port) q.set('port', values.port);
  if (values.request) q.set('method', values.request);
  for (const h of values.header ?? []) q.append('header', h);
  const result = (await adminRequest(serverUrl(values.server), `/aks-emu/v1/explain/route?${q}`)) as { explanation: unknown; text: string };
  out(values.output === 'json' ? JSON.stringify(result.explanation, null, 2) : result.text);
  return 0;
}
