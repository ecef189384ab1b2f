/**
 * The built-in echo pod: the default runtime of every container of every pod. One TCP
 * listener per declared containerPort on the pod's own address; each connection is HTTP
 * (handed to one http.Server per pod) or a byte echo, decided per port or per connection.
 */
import type { PolicyLookup } from '../policy-guard.js';
import { createServer, type Server, type Socket } from 'node:net';
import type { PodInfo } from '../../cluster/snapshot.js';
import { rememberSeenAs, type LocalEndpoint, type SeenAs } from '../../dataplane/l4/local-endpoints.js';
import { closeAll, listenAll } from '../pod-listeners.js';
import type { PodRuntime } from '../pod-runtime.js';
import { EchoHttpHandler } from './echo-http.js';
import { echoPorts, sniff, SNIFF_BYTES, type PortMode } from './port-protocol.js';

export interface EchoPodOptions {
  readonly nodeName: string;
  /** The node's InternalIP, reported as `hostIP` (Kubernetes' status.hostIP). */
  readonly nodeAddress?: string;
  /** The latest snapshot's NetworkPolicies, checked on connections to the pod's own address. */
  readonly policy?: PolicyLookup;
}

/** Per-connection state lives on the socket, so the handlers below are made once, not per connection. */
interface EchoSocket extends Socket {
  echoPod?: EchoPod;
  sniffed?: Buffer;
}

function ignoreError(): void {
  // A reset from the client ends the connection; there is nobody to report it to.
}

function forget(this: EchoSocket): void {
  this.echoPod?.connections.delete(this);
}

function startByteEcho(socket: Socket, first?: Buffer): void {
  if (first && first.length > 0) socket.write(first);
  // pipe() ends the writable side after the last byte is flushed once the client half-closes.
  socket.pipe(socket);
}

function onSniffData(this: EchoSocket, chunk: Buffer): void {
  const first = this.sniffed ? Buffer.concat([this.sniffed, chunk]) : chunk;
  const verdict = sniff(first);
  if (verdict === 'undecided' && first.length < SNIFF_BYTES) {
    this.sniffed = first;
    return;
  }
  this.removeListener('data', onSniffData);
  this.removeListener('end', onSniffEnd);
  this.sniffed = undefined;
  if (verdict === 'http' && this.echoPod) {
    this.echoPod.http.serve(this, first);
  } else {
    startByteEcho(this, first);
  }
}

/** The client half-closed before its first bytes decided anything: echo what came, then end. */
function onSniffEnd(this: EchoSocket): void {
  this.removeListener('data', onSniffData);
  const first = this.sniffed;
  this.sniffed = undefined;
  if (first) this.end(first);
  else this.end();
}

class EchoPod implements PodRuntime {
  readonly http: EchoHttpHandler;
  readonly connections = new Set<Socket>();
  #pod: PodInfo;
  #servers: Server[] = [];
  #endpoints = new Map<number, LocalEndpoint>();
  readonly #policy: PolicyLookup | undefined;

  constructor(pod: PodInfo, options: EchoPodOptions) {
    this.#pod = pod;
    this.#policy = options.policy;
    this.http = new EchoHttpHandler(pod, { nodeName: options.nodeName, hostIP: options.nodeAddress });
  }

  get pod(): PodInfo {
    return this.#pod;
  }

  async start(): Promise<void> {
    if (this.#servers.length > 0) return;
    const ports = echoPorts(this.#pod.containers);
    const listeners = ports.map(({ port, mode }) => ({
      port,
      server: createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket, mode)),
    }));
    await listenAll(this.#pod, listeners, this.#policy);
    this.#servers = listeners.map((l) => l.server);
    this.#endpoints = new Map(ports.map(({ port, mode }) => [port, this.#forwardedTo(mode)]));
  }

  /** The listeners above share their options with the data plane's (allowHalfOpen, noDelay), so a handed-over socket behaves the same. */
  #forwardedTo(mode: PortMode): LocalEndpoint {
    return {
      acceptForwarded: (socket: Socket, seen: SeenAs) => {
        rememberSeenAs(socket, seen);
        this.#accept(socket, mode);
      },
      // #accept only tracks the socket and waits for bytes; a reset before any ends it unseen.
      quietOnProbe: true,
    };
  }

  localEndpoint(port: number): LocalEndpoint | undefined {
    return this.#endpoints.get(port);
  }

  async stop(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    this.#endpoints = new Map();
    const closed = closeAll(servers);
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    await closed;
  }

  setHealthy(healthy: boolean): void {
    this.http.setHealthy(healthy);
  }

  update(pod: PodInfo): void {
    this.#pod = pod;
    this.http.update(pod);
  }

  #accept(socket: EchoSocket, mode: PortMode): void {
    socket.echoPod = this;
    this.connections.add(socket);
    socket.on('close', forget);
    socket.on('error', ignoreError);
    if (mode === 'echo') return startByteEcho(socket);
    socket.on('data', onSniffData);
    socket.on('end', onSniffEnd);
  }
}

export function createEchoPod(pod: PodInfo, options: EchoPodOptions): PodRuntime {
  return new EchoPod(pod, options);
}
