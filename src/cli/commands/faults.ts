/**
 * `aks-emu fault add|list|rm`: the admin API's /aks-emu/v1/faults from the command line.
 * Params are flags (`--fraction 1`, `--delay 200ms`); the server validates them and names
 * the field, which is shown back as the flag.
 */
import { AksEmuError } from '../../errors/index.js';
import type { Fault, FaultList } from '../../faults/types.js';
import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';
import { age, formatTable, humanDuration } from '../table.js';

export const faultHelp = `Add, list and remove faults at any hop of the traffic path (docs/faults.md).

Usage:
  aks-emu fault add TYPE --target KIND/NS/NAME [params] [--for DURATION] [--server HOST:PORT]
  aks-emu fault list [-o json]
  aks-emu fault rm ID|--all

Targets and their fault types:
  node/NAME                       stop, fail-probes, drain, partition, slow (--delay, --jitter)
  pod/NS/NAME                     unready, crash (--restart-after), slow-start (--delay, --window), hang
  service|frontend|nodeport/NS/NAME
                                  latency (--delay, --jitter, --direction), bandwidth (--rate KB/s, --direction),
                                  reset, blackhole, close-after (--bytes, --direction),
                                  idle-timeout (--timeout, --tcp-reset), snat-exhaustion (--ports)
                                  all take --fraction (or --toxicity) and --port
  ingress|httproute/NS/NAME       status (--code, --fraction | --first), delay (--delay), abort, slow-body (--rate KB/s)
                                  all take --path (one rule by its path) and --fraction

Examples:
  aks-emu fault add reset --target service/shop/web --fraction 1
  aks-emu fault add latency --target service/shop/web --delay 200ms --jitter 20ms
  aks-emu fault add status --target ingress/shop/web --code 503 --first 2
  aks-emu fault add drain --target node/aks-nodepool1-00000000-vmss000001 --for 1m`;

/** Flag → the API's param name. */
const PARAM_FLAGS = {
  fraction: 'fraction',
  toxicity: 'toxicity',
  port: 'port',
  delay: 'delay',
  jitter: 'jitter',
  direction: 'direction',
  rate: 'rate',
  bytes: 'bytes',
  timeout: 'timeout',
  'tcp-reset': 'tcpReset',
  ports: 'ports',
  code: 'code',
  first: 'first',
  'restart-after': 'restartAfter',
  window: 'window',
  path: 'path',
} as const;

const FLAG_OF: Record<string, string> = Object.fromEntries(Object.entries(PARAM_FLAGS).map(([flag, param]) => [param, flag]));

/** The server's `params.restartAfter: ...` as the flag the user typed: `--restart-after: ...`. */
function withFlags(err: unknown): unknown {
  if (!(err instanceof AksEmuError)) return err;
  const message = err.message
    .replace(/\bparams\.([A-Za-z]+)/g, (whole, name: string) => (FLAG_OF[name] ? `--${FLAG_OF[name]}` : whole))
    .replace(/\bfor: /g, '--for: ');
  return message === err.message ? err : new AksEmuError(err.code, message, { status: err.status, cause: err });
}

function showParams(fault: Fault): string {
  return Object.entries(fault.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

export async function fault(argv: string[], out: (line: string) => void): Promise<number> {
  const options = {
    server: { type: 'string' },
    target: { type: 'string' },
    for: { type: 'string' },
    output: { type: 'string', short: 'o' },
    all: { type: 'boolean' },
    ...Object.fromEntries(Object.keys(PARAM_FLAGS).map((flag) => [flag, { type: 'string' }])),
  } as const;
  const { values, positionals } = parseCommand('fault', argv, options as unknown as Record<string, { type: 'string' | 'boolean'; short?: string }>);
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help) {
    out(faultHelp);
    return 0;
  }
  const server = serverUrl(v.server as string | undefined);
  const [action, arg, ...extra] = positionals;
  if (extra.length > 0) throw usageError('fault', `unexpected argument "${extra[0]}"`);
  switch (action) {
    case 'add': {
      if (!arg) throw usageError('fault', 'expected: fault add TYPE --target KIND/NS/NAME');
      if (v.target === undefined) throw usageError('fault', 'flag --target is required (KIND/NS/NAME, or node/NAME)');
      const params: Record<string, string> = {};
      for (const [flag, param] of Object.entries(PARAM_FLAGS)) {
        const value = v[flag];
        if (typeof value === 'string') params[param] = value;
      }
      const body = { type: arg, target: v.target, params, ...(v.for === undefined ? {} : { for: v.for }) };
      let added: Fault;
      try {
        added = (await adminRequest(server, '/aks-emu/v1/faults', { method: 'POST', body })) as Fault;
      } catch (err) {
        throw withFlags(err);
      }
      out(`fault ${added.id} added: ${added.type} on ${added.target}${added.expiresAt ? ` until ${added.expiresAt}` : ''}`);
      return 0;
    }
    case 'list':
    case 'ls': {
      if (arg !== undefined) throw usageError('fault', `unexpected argument "${arg}"`);
      const output = v.output;
      if (output !== undefined && output !== 'json') throw usageError('fault', `invalid value "${String(output)}" for flag -o: must be json`);
      const list = (await adminRequest(server, '/aks-emu/v1/faults')) as FaultList;
      if (output === 'json') {
        out(JSON.stringify(list, null, 2));
        return 0;
      }
      if (list.items.length === 0) {
        out('No faults.');
        return 0;
      }
      const now = Date.now();
      out(
        formatTable(
          ['ID', 'TYPE', 'TARGET', 'PARAMS', 'FIRED', 'AGE', 'EXPIRES'],
          list.items.map((f) => [
            f.id,
            f.type,
            f.target,
            showParams(f) || '<none>',
            String(f.fired),
            age(f.createdAt, now),
            f.expiresAt === undefined ? '<never>' : `in ${humanDuration(Date.parse(f.expiresAt) - now)}`,
          ]),
        ),
      );
      return 0;
    }
    case 'rm':
    case 'remove':
    case 'delete': {
      if (v.all === true) {
        if (arg !== undefined) throw usageError('fault', 'give either an ID or --all, not both');
        const removed = (await adminRequest(server, '/aks-emu/v1/faults', { method: 'DELETE' })) as FaultList;
        out(`${removed.items.length} fault${removed.items.length === 1 ? '' : 's'} removed`);
        return 0;
      }
      if (!arg) throw usageError('fault', 'expected: fault rm ID, or fault rm --all');
      const removed = (await adminRequest(server, `/aks-emu/v1/faults/${encodeURIComponent(arg)}`, { method: 'DELETE' })) as Fault;
      out(`fault ${removed.id} removed`);
      return 0;
    }
    default:
      throw usageError('fault', action === undefined ? 'expected: fault add|list|rm' : `unknown action "${action}": expected add, list or rm`);
  }
}
