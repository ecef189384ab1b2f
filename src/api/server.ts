/**
 * The admin HTTP API: Kubernetes-shaped reads (ServiceList, PodList, NodeList,
 * EndpointSliceList) at the API server's own paths, plus aks-emu's views (load balancers
 * with probe states, the raw snapshot, counters) and fault controls.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Snapshot } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';
import { endpointSliceList, ingressList, nodeList, nodeObject, podList, podObject, serviceList, serviceObject, type CreationTimes } from './kube-objects.js';
import { loadBalancerView, type ProbeStatusLike } from './load-balancer-view.js';
import { explainIngress } from './explain.js';
import { explainFlowRoute } from './explain-flow.js';
import { handlePodRoute, type PodControlBackend } from './pod-routes.js';
import { handleObserveRoute, type ObserveBackend } from './observe-routes.js';
import { explainGatewayRoute, gatewayApiList, gatewayApiPaths } from './gateway-objects.js';
import type { Manifests } from '../model/types.js';
import type { Router } from '../dataplane/ingress/index.js';
import { checkRequest, isLoopbackAddress, readBody, type GuardOptions, type Target } from './http/guard.js';
import { ApiStatusError, toStatus } from '../errors/index.js';
import { handleFaultRoute, type FaultControl } from './fault-routes.js';
import { handleDashboardRoute, isDashboardPageFile } from './dashboard/routes.js';

/** What the API reads and controls; the embedded cluster (and the container control role) provide it. */
export interface AdminBackend extends PodControlBackend, ObserveBackend {
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
  /** The fault API (/aks-emu/v1/faults); absent where the runtime has none. */
  readonly faultControl?: FaultControl;
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

function notFound(resource: string, name: string, _namespace?: string): AksEmuError {
  // The API server names the resource and the object, not the namespace.
  return new ApiStatusError('NotFound', `${resource} "${name}" not found`, { name, kind: resource });
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
    ingressList(
      b.snapshot,
      b.manifests.ingresses.filter((i) => i.metadata.namespace === p.ns),
      b.created.get,
    ),
  ),
  route('GET', '/apis/networking.k8s.io/v1/namespaces/:ns/ingresses/:name', (b, p) => {
    const ing = b.manifests.ingresses.filter((i) => i.metadata.namespace === p.ns && i.metadata.name === p.name);
    if (ing.length === 0) throw notFound('ingresses.networking.k8s.io', p.name!, p.ns);
    return ingressList(b.snapshot, ing, b.created.get).items[0];
  }),
  route('GET', '/aks-emu/v1/explain/ingress', (b, _p, _body, q) => explainIngress(b.router, q)),
  route('GET', '/aks-emu/v1/explain/route', (b, _p, _body, q) => explainGatewayRoute(b.snapshot, q)),
  route('GET', '/aks-emu/v1/explain/flow', (b, _p, _body, q) => explainFlowRoute(b.snapshot, q)),
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
      throw new ApiStatusError('BadRequest', 'body must be {"ready": true | false | null} (null hands readiness back to the probes)');
    }
    await b.setPodReady(`${p.ns}/${p.name}`, ready);
    return { pod: `${p.ns}/${p.name}`, ready };
  }),
];

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  readonly target: Target;
  /** The request carried the admin token. */
  readonly authenticated: boolean;
  /** The request body (undefined when empty), refused past the size cap. */
  body(): Promise<Buffer | undefined>;
}

/** A second set of routes tried first (the Kubernetes API over the object store). */
export interface ApiExtension {
  /** True when it answered the request. */
  handle(ctx: RequestContext): Promise<boolean>;
}

export function send(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'content-type': typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function parseJson(body: Buffer | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ApiStatusError('BadRequest', `request body is not valid JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
}

interface ServerState {
  readonly backend: AdminBackend;
  readonly guard: GuardOptions;
  readonly extension: ApiExtension | undefined;
  readonly log: (line: string) => void;
  unexpectedErrors: number;
  url: string;
}

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    // The dashboard's page files hold no cluster data: served without the token, they ask for it.
    const target = checkRequest(req, isDashboardPageFile(req.url) ? { ...state.guard, requireToken: false } : state.guard);
    if (handlePodRoute(state.backend, req, res, target)) return;
    if (handleObserveRoute(state.backend, req, res, target)) return;
    const method = req.method ?? 'GET';
    let read: Promise<Buffer | undefined> | undefined;
    const body = () => (read ??= readBody(req, state.guard.maxBodyBytes));
    if (target.path === '/aks-emu/v1/credentials' && method === 'GET') {
      // What `aks-emu kubeconfig` writes; whoever may call this API may learn how to call it.
      send(res, 200, { server: state.url, token: state.guard.token });
      return;
    }
    if (await handleFaultRoute(state.backend.faultControl, method, target, body, res)) return;
    if (await handleDashboardRoute(state.backend, method, target, req, res, state.log)) return;
    if (state.extension && (await state.extension.handle({ req, res, method, target, authenticated: target.authenticated, body }))) return;
    const path = `/${target.segments.map((s) => encodeURIComponent(s)).join('/')}`;
    const candidates = ROUTES.filter((r) => r.pattern.test(path));
    const match = candidates.find((r) => r.method === method);
    if (!match) {
      if (candidates.length > 0)
        throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${path})`);
      throw new ApiStatusError('NotFound', `the server could not find the requested resource (${method} ${path})`);
    }
    const values = match.pattern.exec(path)!.slice(1);
    const params: Params = {};
    match.names.forEach((n, i) => (params[n] = decodeURIComponent(values[i]!)));
    const parsed = method === 'GET' ? undefined : parseJson(await body());
    send(res, 200, await match.handler(state.backend, params, parsed, target.query));
  } catch (err) {
    if (!(err instanceof AksEmuError)) {
      state.unexpectedErrors++;
      state.log(`admin API: unexpected error on ${req.method} ${String(req.url).slice(0, 200)}: ${(err as Error)?.stack ?? String(err)}`);
    }
    const status = toStatus(err);
    // A refused body is not read further: the connection closes after the answer.
    if (status.code === 413) res.setHeader('connection', 'close');
    send(res, status.code, status);
  }
}

export interface AdminServer {
  readonly url: string;
  /** The bearer token this server accepts (required when requireToken). */
  readonly token: string;
  /** Errors no handler expected (each logged); a fuzz test asserts the process survives them. */
  unexpectedErrors(): number;
  close(): Promise<void>;
}

export interface AdminServerOptions {
  /** Default: generated at start. */
  readonly token?: string;
  /** Default: required unless bound to a loopback address. */
  readonly requireToken?: boolean;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  readonly extension?: ApiExtension;
  readonly log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export async function startAdminServer(backend: AdminBackend, host: string, port: number, options: AdminServerOptions = {}): Promise<AdminServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const state: ServerState = {
    backend,
    guard: {
      boundAddress: host,
      token,
      requireToken: options.requireToken === true || !isLoopbackAddress(host),
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    },
    extension: options.extension,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    unexpectedErrors: 0,
    url: '',
  };
  const server: Server = createServer((req, res) => {
    handle(state, req, res).catch((err: unknown) => {
      state.unexpectedErrors++;
      state.log(`admin API: ${String((err as Error)?.stack ?? err)}`);
      res.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP: Node's parser rejects it; answer 400 as it would, and never throw.
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `admin API: ${host}:${port} is already in use (is another aks-emu running? use --admin HOST:PORT)`, {
              cause: err,
            })
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  state.url = `http://${shown}:${address.port}`;
  return {
    url: state.url,
    token,
    unexpectedErrors: () => state.unexpectedErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
