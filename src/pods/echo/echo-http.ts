/**
 * The HTTP side of the echo pod: health endpoints, and every other path answered with
 * the JSON of the Ingress conformance echo server (kubernetes-sigs/ingress-controller-
 * conformance, images/echoserver) plus where the request came from and arrived.
 *
 * This is on the benchmark path: handlers are made once per pod, the body is counted
 * and dropped, and the only serialisation is the response itself. HTTP/1.x itself is
 * http1-connection.ts, lighter per connection than Node's http.Server.
 */
import type { Socket } from 'node:net';
import type { PodInfo } from '../../cluster/snapshot.js';
import { seenAs } from '../../dataplane/l4/local-endpoints.js';
import { serveHttp1, writeResponse, type Http1Request } from './http1-connection.js';
import { MAX_SIZED_BODY, requestedSize, sizedBody } from './sized-body.js';

/** The paths an app conventionally serves its health on; they answer `ok` without echoing. */
const HEALTH_PATHS = ['/health', '/healthz', '/readyz'];

const REASONS: Readonly<Record<number, string>> = { 200: 'OK', 400: 'Bad Request', 503: 'Service Unavailable' };

let dateSecond = -1;
let dateValue = '';

/** The Date header, formatted once per second as Go's and Node's servers do. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

export interface EchoIdentity {
  readonly nodeName: string;
  /** status.hostIP: the address of the pod's node, when the runtime knows it. */
  readonly hostIP?: string;
}

export class EchoHttpHandler {
  #pod: PodInfo;
  #healthy = true;
  #probePaths: ReadonlySet<string>;
  readonly #identity: EchoIdentity;

  constructor(pod: PodInfo, identity: EchoIdentity) {
    this.#pod = pod;
    this.#identity = identity;
    this.#probePaths = probePaths(pod);
  }

  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  update(pod: PodInfo): void {
    this.#pod = pod;
    this.#probePaths = probePaths(pod);
  }

  /**
   * Serve HTTP on the socket; `first` holds bytes already read. Like Go's net/http (the
   * conformance echo server), an idle keep-alive connection is never closed by the pod,
   * so the Azure LB idle timeout is not hidden behind one of our own.
   */
  serve(socket: Socket, first?: Buffer): void {
    serveHttp1(socket, this.#respond, first);
  }

  readonly #respond = (socket: Socket, req: Http1Request): void => {
    const url = req.target;
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (this.#probePaths.has(path)) {
      if (!this.#healthy) return this.#reply(socket, req, 503, 'text/plain; charset=utf-8', 'unhealthy\n');
      if (HEALTH_PATHS.includes(path)) return this.#reply(socket, req, 200, 'text/plain; charset=utf-8', 'ok');
    }
    const size = requestedSize(url, query);
    if (size !== undefined) {
      if (Number.isNaN(size))
        return this.#reply(socket, req, 400, 'text/plain; charset=utf-8', `size must be a whole number of bytes from 0 to ${MAX_SIZED_BODY}\n`);
      return this.#reply(socket, req, 200, 'application/octet-stream', sizedBody(size));
    }
    const addresses = seenAs(socket);
    const pod = this.#pod;
    const body = JSON.stringify({
      path: url,
      host: requestHost(req),
      method: req.method,
      proto: `HTTP/${req.version}`,
      headers: goHeaders(req.rawHeaders),
      namespace: pod.namespace,
      pod: pod.name,
      node: this.#identity.nodeName,
      hostIP: this.#identity.hostIP,
      podIP: pod.ip,
      remoteAddress: addresses.remoteAddress,
      remotePort: addresses.remotePort,
      localAddress: addresses.localAddress,
      localPort: addresses.localPort,
      bodyLength: req.bodyLength,
    });
    this.#reply(socket, req, 200, 'application/json', body, 'X-Content-Type-Options: nosniff\r\n');
  };

  #reply(socket: Socket, req: Http1Request, status: number, contentType: string, body: string | Buffer, extra = ''): void {
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const head =
      `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\nContent-Type: ${contentType}\r\n${extra}Content-Length: ${length}\r\n` +
      `X-Pod-Name: ${this.#pod.name}\r\nDate: ${httpDate()}\r\nConnection: ${req.keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
    writeResponse(socket, head, req.method === 'HEAD' ? undefined : body);
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

/** Go's Request.Host: the authority of an absolute-form target, else the (first) Host header. */
function requestHost(req: Http1Request): string {
  const url = req.target;
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = url.indexOf('://');
    if (scheme > 0) {
      const end = url.indexOf('/', scheme + 3);
      return url.slice(scheme + 3, end < 0 ? url.length : end);
    }
  }
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'host') return raw[i + 1] as string;
  return '';
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
