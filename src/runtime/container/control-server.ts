/**
 * The `control` container's HTTP endpoint (0.0.0.0:7070, published on 127.0.0.1:7070):
 * the snapshot and fault watches and the node/lb reports of protocol.ts, and in front of them the
 * very admin API the embedded runtime serves (`aks-emu get ... --server`), reached
 * through a loopback hop so both runtimes answer from one implementation.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { listenerGuard } from '../../dataplane/l4/listener-guard.js';

import { hostAllowed } from '../../api/http/guard.js';
import { startAdminServer, type AdminServer } from '../../api/server.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import type { ContainerControlPlane } from './control-plane.js';
import type { FaultSetLine, LoadBalancerStatusReport, NodeStatusReport } from './protocol.js';

const NODE_STATUS = /^\/aks-emu\/v1\/runtime\/nodes\/([^/]+)\/status\/?$/;
const LB_STATUS = /^\/aks-emu\/v1\/runtime\/loadbalancer\/status\/?$/;
/** The names compose gives the control container (compose.yaml's service name). */
const CONTROL_NAMES = new Set(['control']);
/** Reports are small; anything larger is not one. */
const MAX_BODY = 4 * 1024 * 1024;

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startControlServer(control: ContainerControlPlane, host: string, port: number): Promise<ControlServer> {
  const admin = await startAdminServer(control, '127.0.0.1', 0);
  const watchers = new Set<ServerResponse>();
  const onSnapshot = (snapshot: Snapshot): void => {
    const line = `${JSON.stringify(snapshot)}\n`;
    for (const res of watchers) res.write(line);
  };
  control.on('snapshot', onSnapshot);
  const faultWatchers = new Set<ServerResponse>();
  const onFaults = (set: FaultSetLine): void => {
    const line = `${JSON.stringify(set)}\n`;
    for (const res of faultWatchers) res.write(line);
  };
  control.on('faults', onFaults);

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '';
    // Only origin-form: control is not a proxy, and an absolute-form target
    // (`GET http://169.254.169.254/ HTTP/1.1`) must never be fetched (RFC 9112 3.2).
    if (!target.startsWith('/')) {
      plain(res, 400, `request-target "${target.slice(0, 100)}" is not served here: only origin-form paths (/...) of this control server`);
      return;
    }
    // DNS rebinding: control answers to its compose service name, loopback names and IP
    // literals (it is bound to every address), as the admin API behind it would.
    const host = req.headers.host;
    if (host !== undefined && !hostAllowed(host, '0.0.0.0') && !CONTROL_NAMES.has(host.replace(/:\d+$/, '').toLowerCase())) {
      plain(res, 403, `host "${host.slice(0, 100)}" is not this control server's address (use control, localhost or an IP address)`);
      return;
    }
    // Parsed against a fixed origin, so `//host/x` is a path here, never an authority.
    const url = new URL(`http://control${target}`);
    if (req.method === 'GET' && url.pathname === '/aks-emu/v1/snapshot' && url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      res.write(`${JSON.stringify(control.snapshot)}\n`);
      watchers.add(res);
      res.on('close', () => watchers.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/aks-emu/v1/runtime/faults' && url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      res.write(`${JSON.stringify(control.faultSet())}\n`);
      faultWatchers.add(res);
      res.on('close', () => faultWatchers.delete(res));
      return;
    }
    const node = NODE_STATUS.exec(url.pathname);
    if (node !== null || LB_STATUS.test(url.pathname)) {
      void report(req, res, (body) => {
        if (node !== null) return control.nodeStatus(decodeURIComponent(node[1] ?? ''), body as NodeStatusReport);
        control.loadBalancerStatus(body as LoadBalancerStatusReport);
        return { ok: true };
      });
      return;
    }
    // Repeated slashes merged, as nginx's merge_slashes does: `//x` is never read as an authority downstream.
    proxy(admin, target.replace(/\/{2,}/g, '/'), req, res);
  };
  const server: Server = createServer((req, res) => {
    listenerGuard.call(
      'control',
      () => serve(req, res),
      () => {
        if (res.headersSent) res.destroy();
        else plain(res, 500, 'internal error (logged)');
      },
    );
  });
  server.on('connection', (socket) => listenerGuard.watch('control', socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `control: ${host}:${port} is already in use`, { cause: err }) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: async () => {
      control.off('snapshot', onSnapshot);
      control.off('faults', onFaults);
      for (const res of [...watchers, ...faultWatchers]) res.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await admin.close();
    },
  };
}

async function report(req: IncomingMessage, res: ServerResponse, handle: (body: unknown) => unknown): Promise<void> {
  try {
    if (req.method !== 'POST') throw new AksEmuError('AKS_EMU_USAGE', `method ${req.method} not allowed`, { status: 405 });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new AksEmuError('AKS_EMU_USAGE', 'report too large', { status: 413 });
      chunks.push(chunk as Buffer);
    }
    const reply = JSON.stringify(handle(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    res.end(reply);
  } catch (err) {
    const status = err instanceof AksEmuError ? err.status : 400;
    const message = JSON.stringify({ message: (err as Error).message });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(message);
  }
}

function plain(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * One loopback hop to the admin API; the status line, headers and body pass unchanged.
 * Host and port are the admin server's own: only the path comes from the request.
 */
function proxy(admin: AdminServer, path: string, req: IncomingMessage, res: ServerResponse): void {
  const { hostname, port } = new URL(admin.url);
  // The Host was checked above; the admin API sees its own loopback address, as from its own client.
  const headers = { ...req.headers, host: `${hostname}:${port}` };
  const upstream = request({ host: hostname, port, path, method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`admin API unavailable: ${err.message}\n`);
  });
  req.pipe(upstream);
}
