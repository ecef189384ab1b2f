/**
 * The HTTP side of the echo pod: health endpoints, and every other path answered with
 * the JSON of the Ingress conformance echo server (kubernetes-sigs/ingress-controller-
 * conformance, images/echoserver) plus where the request came from and arrived.
 *
 * This is on the benchmark path: handlers are made once per pod, the body is counted
 * and dropped, and the only serialisation is the response itself.
 */
import { createServer, IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PodInfo } from '../../cluster/snapshot.js';

/** The paths an app conventionally serves its health on; they answer `ok` without echoing. */
const HEALTH_PATHS = ['/health', '/healthz', '/readyz'];

class EchoRequest extends IncomingMessage {
  bodyLength = 0;
  response: ServerResponse | undefined;
  handler: EchoHttpHandler | undefined;
}

function countBody(this: EchoRequest, chunk: Buffer): void {
  this.bodyLength += chunk.length;
}

function answer(this: EchoRequest): void {
  this.handler?.respond(this);
}

export interface EchoIdentity {
  readonly nodeName: string;
  /** status.hostIP: the address of the pod's node, when the runtime knows it. */
  readonly hostIP?: string;
}

export class EchoHttpHandler {
  readonly server: Server;
  #pod: PodInfo;
  #healthy = true;
  #probePaths: ReadonlySet<string>;
  readonly #identity: EchoIdentity;

  constructor(pod: PodInfo, identity: EchoIdentity) {
    this.#pod = pod;
    this.#identity = identity;
    this.#probePaths = probePaths(pod);
    // Sockets arrive by `emit('connection')`, never from listen(), so Node's periodic
    // request-timeout sweep never starts; requestTimeout 0 says so explicitly.
    this.server = createServer({ IncomingMessage: EchoRequest, requestTimeout: 0, noDelay: true }, this.#onRequest);
    // Go's net/http (the conformance echo server) never closes an idle keep-alive
    // connection; Node's 5 s default would hide the Azure LB idle timeout behind our own.
    this.server.keepAliveTimeout = 0;
  }

  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  update(pod: PodInfo): void {
    this.#pod = pod;
    this.#probePaths = probePaths(pod);
  }

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const request = req as EchoRequest;
    request.response = res;
    request.handler = this;
    request.on('data', countBody);
    request.on('end', answer);
  };

  respond(req: EchoRequest): void {
    const res = req.response;
    if (!res) return;
    req.response = undefined;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (this.#probePaths.has(path)) {
      if (!this.#healthy) return this.#text(res, 503, 'unhealthy\n');
      if (HEALTH_PATHS.includes(path)) return this.#text(res, 200, 'ok');
    }
    const socket = req.socket;
    const pod = this.#pod;
    const body = JSON.stringify({
      path: url,
      host: requestHost(req, url),
      method: req.method,
      proto: `HTTP/${req.httpVersion}`,
      headers: goHeaders(req.rawHeaders),
      namespace: pod.namespace,
      pod: pod.name,
      node: this.#identity.nodeName,
      hostIP: this.#identity.hostIP,
      podIP: pod.ip,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
      bodyLength: req.bodyLength,
    });
    res.writeHead(200, [
      'Content-Type',
      'application/json',
      'X-Content-Type-Options',
      'nosniff',
      'Content-Length',
      String(Buffer.byteLength(body)),
      'X-Pod-Name',
      pod.name,
    ]);
    res.end(body);
  }

  #text(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(body.length),
      'X-Pod-Name',
      this.#pod.name,
    ]);
    res.end(body);
  }
}

/** The health paths plus every httpGet path a probe of this pod uses (query dropped, as routing does). */
function probePaths(pod: PodInfo): ReadonlySet<string> {
  const paths = new Set(HEALTH_PATHS);
  for (const c of pod.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      const path = probe?.httpGet?.path;
      if (path === undefined) continue;
      const query = path.indexOf('?');
      paths.add(query < 0 ? path : path.slice(0, query));
    }
  }
  return paths;
}

/** Go's Request.Host: the authority of an absolute-form target, else the Host header. */
function requestHost(req: IncomingMessage, url: string): string {
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = url.indexOf('://');
    if (scheme > 0) {
      const end = url.indexOf('/', scheme + 3);
      return url.slice(scheme + 3, end < 0 ? url.length : end);
    }
  }
  return req.headers.host ?? '';
}

/**
 * The request headers as Go's http.Header marshals them: canonical names, every value
 * in order. Go's server moves Host into Request.Host and consumes Transfer-Encoding, so
 * neither appears (net/http request.go, transfer.go).
 */
function goHeaders(raw: readonly string[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderKey(raw[i] as string);
    if (name === 'Host' || name === 'Transfer-Encoding') continue;
    const values = headers[name];
    if (values) values.push(raw[i + 1] as string);
    else headers[name] = [raw[i + 1] as string];
  }
  return headers;
}

const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_LIMIT = 512;

/** textproto.CanonicalMIMEHeaderKey: upper-case the first letter and each after '-'; others lower-case. */
export function canonicalHeaderKey(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  if (canonicalCache.size < CANONICAL_CACHE_LIMIT) canonicalCache.set(name, out);
  return out;
}
