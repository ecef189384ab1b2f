import { request } from 'node:http';
import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import { resolveServiceName } from '../../cluster/dns.js';
import { embeddedAddress } from '../../cluster/ip-names.js';
import { directFlowDecision } from '../../cluster/netpol/explain-flow.js';
import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';

export const curlHelp = `An in-cluster HTTP client: like running curl in a pod or on a node.

Usage: aks-emu curl [--from pod/NAME | node/NAME] [-n NS] [-X METHOD] [-H 'K: V']... [-d DATA] [-i] [-m SECONDS] URL

The source address is the pod's IP (or the node's), so ClusterIPs answer; Service names
resolve like cluster DNS: svc, svc.ns, svc.ns.svc.cluster.local, and a headless Service's
pods by name: pod-0.svc, pod-0.svc.ns, pod-0.svc.ns.svc.cluster.local. nip.io and sslip.io
names (app.127.20.0.1.nip.io, app-127-20-0-1.sslip.io) resolve locally to the address they
embed. Without --from the client is the host (127.0.0.1), outside the cluster.`;

/** curl's exit codes, so scripts can tell a refusal from a timeout. */
const CURL_EXIT = { resolve: 6, connect: 7, timeout: 28, recv: 56 } as const;

export async function curl(argv: string[], out: (line: string) => void, write: (chunk: Buffer | string) => void): Promise<number> {
  const { values, positionals } = parseCommand('curl', argv, {
    from: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    request: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    data: { type: 'string', short: 'd' },
    include: { type: 'boolean', short: 'i' },
    'max-time': { type: 'string', short: 'm' },
    server: { type: 'string' },
  });
  if (values.help) {
    out(curlHelp);
    return 0;
  }
  const [raw, extra] = positionals;
  if (!raw) throw usageError('curl', 'a URL is required');
  if (extra) throw usageError('curl', `unexpected argument "${extra}"`);
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw usageError('curl', `invalid URL "${raw}"`);
  }
  if (url.protocol !== 'http:') throw usageError('curl', `unsupported scheme ${url.protocol} (aks-emu curl speaks http)`);
  const maxTime = values['max-time'] === undefined ? 10 : Number(values['max-time']);
  if (!(maxTime > 0)) throw usageError('curl', `invalid value "${values['max-time']}" for flag -m: must be a number of seconds > 0`);
  const headers: Record<string, string> = { host: url.host, 'user-agent': 'aks-emu-curl', accept: '*/*' };
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw usageError('curl', `invalid value "${h}" for flag -H: expected 'Name: value'`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }

  const snapshot = (await adminRequest(serverUrl(values.server), '/aks-emu/v1/snapshot')) as Snapshot;
  const { localAddress, namespace } = source(snapshot, values.from, values.namespace);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let address: string;
  try {
    address = embeddedAddress(host) ?? resolveServiceName(snapshot, host, namespace)[0]!;
  } catch (err) {
    out(`curl: (${CURL_EXIT.resolve}) ${(err as Error).message}`);
    return CURL_EXIT.resolve;
  }
  const port = Number(url.port || 80);
  const method = values.request ?? (values.data !== undefined ? 'POST' : 'GET');
  if (values.data !== undefined) headers['content-length'] = String(Buffer.byteLength(values.data));
  // A pod address is dialled directly, past kube-proxy: NetworkPolicy drops the SYN here.
  if (directFlowDecision(snapshot, localAddress ?? '127.0.0.1', address, port)?.verdict === 'drop') {
    await new Promise((resolve) => setTimeout(resolve, maxTime * 1000));
    out(`curl: (${CURL_EXIT.timeout}) Connection timed out after ${maxTime * 1000} milliseconds`);
    return CURL_EXIT.timeout;
  }

  return new Promise<number>((resolve) => {
    const req = request({ host: address, port, localAddress, method, path: `${url.pathname}${url.search}`, headers, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      out(`curl: (${CURL_EXIT.timeout}) Operation timed out after ${maxTime * 1000} milliseconds`);
      resolve(CURL_EXIT.timeout);
    }, maxTime * 1000);
    req.on('response', (res) => {
      if (values.include) {
        write(`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\r\n`);
        for (let i = 0; i < res.rawHeaders.length; i += 2) write(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`);
        write('\r\n');
      }
      res.on('data', (chunk: Buffer) => write(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve(0);
      });
      res.on('error', () => {
        clearTimeout(timer);
        out(`\ncurl: (${CURL_EXIT.recv}) Recv failure: Connection reset by peer`);
        resolve(CURL_EXIT.recv);
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') {
        out(`curl: (${CURL_EXIT.connect}) Failed to connect to ${host} port ${port} after 0 ms: Connection refused`);
        resolve(CURL_EXIT.connect);
      } else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        out(`curl: (${CURL_EXIT.recv}) Recv failure: Connection reset by peer`);
        resolve(CURL_EXIT.recv);
      } else {
        out(`curl: (${CURL_EXIT.connect}) ${err.message}`);
        resolve(CURL_EXIT.connect);
      }
    });
    req.end(values.data);
  });
}

/** `pod/NAME` or `node/NAME` → the address to bind and the namespace short names resolve in. */
function source(snapshot: Snapshot, from: string | undefined, ns: string | undefined): { localAddress?: string; namespace: string } {
  const namespace = ns ?? 'default';
  if (from === undefined) return { namespace };
  const m = /^(pod|po|pods|node|no|nodes)\/(.+)$/.exec(from);
  if (!m) throw usageError('curl', `invalid value "${from}" for flag --from: expected pod/NAME or node/NAME`);
  if (m[1]!.startsWith('no')) {
    const node = snapshot.nodes.find((n) => n.name === m[2]);
    if (!node) throw new AksEmuError('AKS_EMU_NOT_FOUND', `nodes "${m[2]}" not found`);
    return { localAddress: node.address, namespace };
  }
  const pod = snapshot.pods.find((p) => p.name === m[2] && p.namespace === namespace);
  if (!pod) throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${m[2]}" not found in namespace "${namespace}"`);
  if (pod.phase !== 'Running') throw new AksEmuError('AKS_EMU_NOT_FOUND', `pod "${m[2]}" is ${pod.phase}: it has no IP to send from`);
  return { localAddress: pod.ip, namespace };
}
