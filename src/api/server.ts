/**
 * The admin HTTP API: Kubernetes-shaped reads (ServiceList, PodList, NodeList,
 * EndpointSliceList) at the API server's own paths, plus aks-emu's views (load balancers
 * with probe states, the raw snapshot, counters) and fault controls.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';
import {
  endpointSliceList,
  ingressList,
  nodeList,
  nodeObject,
  podList,
  podObject,
  serviceList,
  serviceObject,
  type CreationTimes,
} from './kube-objects.js';
import { loadBalancerView, type ProbeStatusLike } from './load-balancer-view.js';
import { explainIngress } from './explain.js';
import { explainGatewayRoute, gatewayApiList, gatewayApiPaths } from './gateway-objects.js';
import { handlePodRoute, type PodControlBackend } from './pod-routes.js';
import type { Manifests } from '../model/types.js';
import type { Router } from '../dataplane/ingress/index.js';

/** What the API reads and controls; the embedded cluster (and the container control role) provide it. */
export interface AdminBackend extends PodControlBackend {
  readonly snapshot: Snapshot;
  readonly created: { get: CreationTimes };
  /** What the cluster runs (user manifests plus built-in objects). */
  readonly manifests: Manifests;
  /** The ingress controller's current router; undefined when the controller is off. */
  readonly router: Router | undefined;
  probeStatus(): readonly ProbeStatusLike[];
  stats(): unknown;
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  setPodReady(podKey: string, ready: boolean | null): Promise<void>;
}

type Params = Record<string, string>;
type Handler = (backend: AdminBackend, params: Params, body: unknown, query: URLSearchParams) => unknown | Promise<unknown>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

function route(method: string, path: string, handler: Handler): Route {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:([a-z]+)/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    })}/?$`,
  );
  return { method, pattern, names, handler };
}

function notFound(resource: string, name: string, ns?: string): AksEmuError {
  return new AksEmuError('AKS_EMU_NOT_FOUND', ns ? `${resource} "${name}" not found in namespace "${ns}"` : `${resource} "${name}" not found`);
}

function inNamespace<T extends { namespace: string }>(items: readonly T[], ns: string | undefined): T[] {
  return ns === undefined ? [...items] : items.filter((i) => i.namespace === ns);
}

const ROUTES: readonly Route[] = [
  route('GET', '/healthz', () => 'ok'),
  route('GET', '/api/v1/services', (b) => serviceList(b.snapshot, b.snapshot.services, b.created.get)),
  route('GET', '/api/v1/namespaces/:ns/services', (b, p) => serviceList(b.snapshot, inNamespace(b.snapshot.services, p.ns), b.created.get)),
  route('GET', '/api/v1/namespaces/:ns/services/:name', (b, p) => {
    const s = b.snapshot.services.find((x) => x.namespace === p.ns && x.name === p.name);
    if (!s) throw notFound('services', p.name!, p.ns);
    return serviceObject(s, b.created.get);
  }),
  route('GET', '/api/v1/pods', (b) => podList(b.snapshot, b.snapshot.pods, b.created.get)),
  route('GET', '/api/v1/namespaces/:ns/pods', (b, p) => podList(b.snapshot, inNamespace(b.snapshot.pods, p.ns), b.created.get)),
  route('GET', '/api/v1/namespaces/:ns/pods/:name', (b, p) => {
    const pod = b.snapshot.pods.find((x) => x.namespace === p.ns && x.name === p.name);
    if (!pod) throw notFound('pods', p.name!, p.ns);
    return podObject(pod, b.created.get);
  }),
  route('GET', '/api/v1/nodes', (b) => nodeList(b.snapshot, b.snapshot.nodes, b.created.get)),
  route('GET', '/api/v1/nodes/:name', (b, p) => {
    const node = b.snapshot.nodes.find((x) => x.name === p.name);
    if (!node) throw notFound('nodes', p.name!);
    return nodeObject(node, b.created.get);
  }),
  route('GET', '/apis/discovery.k8s.io/v1/endpointslices', (b) => endpointSliceList(b.snapshot, b.snapshot.services, b.created.get)),
  route('GET', '/apis/discovery.k8s.io/v1/namespaces/:ns/endpointslices', (b, p) =>
    endpointSliceList(b.snapshot, inNamespace(b.snapshot.services, p.ns), b.created.get),
  ),
  route('GET', '/apis/networking.k8s.io/v1/ingresses', (b) => ingressList(b.snapshot, b.manifests.ingresses, b.created.get)),
  route('GET', '/apis/networking.k8s.io/v1/namespaces/:ns/ingresses', (b, p) =>
    ingressList(b.snapshot, b.manifests.ingresses.filter((i) => i.metadata.namespace === p.ns), b.created.get),
  ),
  route('GET', '/apis/networking.k8s.io/v1/namespaces/:ns/ingresses/:name', (b, p) => {
    const ing = b.manifests.ingresses.filter((i) => i.metadata.namespace === p.ns && i.metadata.name === p.name);
    if (ing.length === 0) throw notFound('ingresses.networking.k8s.io', p.name!, p.ns);
    return ingressList(b.snapshot, ing, b.created.get).items[0];
  }),
  route('GET', '/aks-emu/v1/explain/ingress', (b, _p, _body, q) => explainIngress(b.router, q)),
  route('GET', '/aks-emu/v1/explain/route', (b, _p, _body, q) => explainGatewayRoute(b.snapshot, q)),
  ...gatewayApiPaths().map(([path, resource]) => route('GET', path, (b, p) => gatewayApiList(b.snapshot, b.manifests, resource, b.created.get, p.ns, p.name))),
  route('GET', '/aks-emu/v1/loadbalancers', (b) => loadBalancerView(b.snapshot, b.probeStatus())),
  route('GET', '/aks-emu/v1/snapshot', (b) => b.snapshot),
  route('GET', '/aks-emu/v1/stats', (b) => b.stats()),
  route('POST', '/aks-emu/v1/nodes/:name/stop', async (b, p) => {
    await b.stopNode(p.name!);
    return { node: p.name, running: false };
  }),
  route('POST', '/aks-emu/v1/nodes/:name/start', async (b, p) => {
    await b.startNode(p.name!);
    return { node: p.name, running: true };
  }),
  route('PUT', '/aks-emu/v1/namespaces/:ns/pods/:name/readiness', async (b, p, body) => {
    const ready = (body as { ready?: unknown } | undefined)?.ready;
    if (ready !== true && ready !== false && ready !== null) {
      throw new AksEmuError('AKS_EMU_USAGE', 'body must be {"ready": true | false | null} (null hands readiness back to the probes)');
    }
    await b.setPodReady(`${p.ns}/${p.name}`, ready);
    return { pod: `${p.ns}/${p.name}`, ready };
  }),
];

function statusBody(err: AksEmuError) {
  const reason = err.status === 404 ? 'NotFound' : err.status === 422 ? 'Invalid' : err.status === 400 ? 'BadRequest' : 'InternalError';
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason, code: err.status, details: { code: err.code } };
}

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new AksEmuError('AKS_EMU_USAGE', 'request body is not valid JSON', { cause: err });
  }
}

async function handle(backend: AdminBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (handlePodRoute(backend, req, res)) return;
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  const candidates = ROUTES.filter((r) => r.pattern.test(path));
  const match = candidates.find((r) => r.method === req.method);
  try {
    if (!match) {
      if (candidates.length > 0) throw new AksEmuError('AKS_EMU_USAGE', `method ${req.method} not allowed on ${path}`, { status: 405 });
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `the server could not find the requested resource (${path})`);
    }
    const values = match.pattern.exec(path)!.slice(1);
    const params: Params = {};
    match.names.forEach((n, i) => (params[n] = decodeURIComponent(values[i]!)));
    const body = req.method === 'GET' ? undefined : await readJson(req);
    send(res, 200, await match.handler(backend, params, body, url.searchParams));
  } catch (err) {
    const e = err instanceof AksEmuError ? err : new AksEmuError('AKS_EMU_STOPPED', String((err as Error)?.message ?? err), { status: 500, cause: err });
    send(res, e.status, statusBody(e));
  }
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(backend: AdminBackend, host: string, port: number): Promise<AdminServer> {
  const server: Server = createServer((req, res) => void handle(backend, req, res));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `admin API: ${host}:${port} is already in use (is another aks-emu running? use --admin HOST:PORT)`, { cause: err })
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
