/**
 * One bound address:port. Its accept handler is looked up by key in the current tables
 * at each accept, so a listener that survives a swap serves new connections from the new
 * tables without being rebound.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

import { AksEmuError } from '../../errors/index.js';
import type { ConnectionTracker } from './connection-tracker.js';
import { listenerGuard } from './listener-guard.js';
import { beginFlow, type FlowSource } from '../observe/flow.js';
import type { ListenerCounters } from '../stats.js';
import type { ProbeSocketReason } from '../lb/probe-answer.js';

export type ListenerRole = 'lb' | 'nodeport' | 'clusterip' | 'health-check' | 'healthz';

interface ListenerSpecBase {
  /** `address:port:role`. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly role: ListenerRole;
  /** What the address:port is, for error messages: `NodePort 30080 of default/web on node-0`. */
  readonly description: string;
}

export interface TcpListenerSpec extends ListenerSpecBase {
  readonly kind: 'tcp';
  accept(socket: Socket): void;
  /** This address:port's counters; each accepted connection starts a flow record with them (observe/flow.ts). */
  readonly counters?: ListenerCounters;
  /**
   * What accept() does with an LB health probe's connection, done without one when it can
   * be (KubeProxy.probeHandOver): undefined when it was, else why a socket is needed.
   * Absent: only a connection can tell.
   */
  readonly probeHandOver?: () => ProbeSocketReason | undefined;
}

export interface HttpListenerSpec extends ListenerSpecBase {
  readonly kind: 'http';
  respond(request: IncomingMessage, response: ServerResponse): void;
  /**
   * The status respond() gives every well-formed GET, when it depends on no part of the
   * request (a healthCheckNodePort): the LB's HTTP probe reads it here, without a
   * connection (lb/probe-answer.ts). Absent: only a request can tell.
   */
  readonly statusOfAnyGet?: () => number;
}

export type ListenerSpec = TcpListenerSpec | HttpListenerSpec;

export function listenerKey(address: string, port: number, role: ListenerRole): string {
  return `${address}:${port}:${role}`;
}

/** The current tables' listener specs. */
export type SpecLookup = (key: string) => ListenerSpec | undefined;

export class Listener {
  private readonly server: Server;
  private readonly http: HttpServer | undefined;
  private readonly closed: Promise<void>;

  constructor(
    readonly spec: ListenerSpec,
    private readonly current: SpecLookup,
    private readonly tracker: ConnectionTracker,
    /** Errors of a bound listener (a failed bind rejects listen() instead). */
    private readonly onError: (error: Error) => void,
    /** Where accepted connections' flow records go; none: nothing is traced. */
    private readonly flows?: FlowSource,
  ) {
    // The handlers are methods, each passed as an arrow made here for this listener's kind:
    // an arrow in a class field is made for every instance whether it is used or not, and
    // tsx (keepNames) gives each one a name property of its own, about 300 bytes a closure
    // (11,000 listeners at 1,000 Services).
    if (spec.kind === 'tcp') {
      // Paused until the flow is spliced: bytes (or a FIN) that arrive while the upstream is
      // still being dialled must wait in the kernel, not be emitted to nobody.
      this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (socket) => this.onConnection(socket));
    } else {
      this.http = createHttpServer((request, response) => this.onRequest(request, response));
      this.http.on('connection', (socket: Socket) => this.onHttpConnection(socket));
      this.server = this.http;
    }
    this.closed = new Promise((resolve) => this.server.once('close', () => resolve()));
  }

  /** Bound and accepting: a connection to the address:port now reaches this listener. */
  get listening(): boolean {
    return this.server.listening;
  }

  /** Resolves once bound; rejects with AKS_EMU_ADDRESS_IN_USE naming the address and its role. */
  listen(): Promise<void> {
    const { address, port, description } = this.spec;
    return new Promise((resolve, reject) => {
      const fail = (error: NodeJS.ErrnoException): void => {
        reject(
          new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `cannot listen on ${address}:${port} (${description}): ${error.code ?? error.message}`, {
            cause: error,
          }),
        );
      };
      this.server.once('error', fail);
      this.server.listen({ host: address, port, exclusive: true }, () => {
        this.server.off('error', fail);
        this.server.on('error', this.onError);
        resolve();
      });
    });
  }

  /**
   * Stop accepting at once (the port is free when this returns); the promise resolves
   * when every connection accepted here has closed.
   */
  close(): Promise<void> {
    this.server.close();
    this.http?.closeIdleConnections();
    return this.closed;
  }

  private onConnection(socket: Socket): void {
    this.tracker.trackClient(socket);
    listenerGuard.watch(this.spec.description, socket);
    if (socket.remoteAddress === undefined) {
      // Reset by the client before we saw it.
      socket.destroy();
      return;
    }
    const spec = this.current(this.spec.key);
    if (spec?.kind !== 'tcp') {
      socket.destroy();
      return;
    }
    if (this.flows !== undefined && spec.counters !== undefined) beginFlow(this.flows, socket, spec.counters);
    try {
      spec.accept(socket);
    } catch (error) {
      listenerGuard.fail(this.spec.description, socket, error);
    }
  }

  private onHttpConnection(socket: Socket): void {
    this.tracker.trackOther(socket);
    listenerGuard.watch(this.spec.description, socket);
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const spec = this.current(this.spec.key);
    if (spec?.kind !== 'http') {
      response.destroy();
      return;
    }
    try {
      spec.respond(request, response);
    } catch (error) {
      listenerGuard.fail(this.spec.description, request.socket, error);
    }
  }
}
