/**
 * The cluster DNS of the container runtime at kube-dns's ClusterIP (10.0.0.10 on AKS),
 * UDP and TCP port 53, answering from the current snapshot with CoreDNS's kubernetes
 * plugin names: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local` → the ClusterIP,
 * a headless Service → its ready pod IPs; any other name NXDOMAIN. A bare `svc` is read
 * in `default`, the namespace of the toolbox and of the search path it is given.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

import type { Snapshot } from '../../cluster/snapshot.js';
import { listenerGuard } from '../../dataplane/l4/listener-guard.js';
import { AksEmuError } from '../../errors/index.js';
import { resolveServiceName } from '../../cluster/dns.js';
import { buildAnswer, buildFormatError, parseQuery, RCODE, TYPE_A } from './dns-message.js';

/** CoreDNS's kubernetes plugin answers with ttl 5 by default. */
const TTL_SECONDS = 5;
const MAX_TCP_MESSAGE = 65_535;
const UDP_LISTENER = 'cluster DNS (udp)';
const TCP_LISTENER = 'cluster DNS (tcp)';

/** The answer to one raw query against a snapshot (exported for tests). */
export function answerQuery(snapshot: Snapshot | undefined, message: Buffer, namespace = 'default'): Buffer | undefined {
  const question = parseQuery(message);
  if (question === undefined) return buildFormatError(message);
  if (snapshot === undefined) return buildAnswer(question, RCODE.servFail, [], 0);
  let addresses: string[];
  try {
    addresses = /^\d+\.\d+\.\d+\.\d+$/.test(question.name) ? [] : resolveServiceName(snapshot, question.name, namespace);
  } catch (err) {
    if (err instanceof AksEmuError && err.code === 'AKS_EMU_NOT_FOUND') return buildAnswer(question, RCODE.nxDomain, [], TTL_SECONDS);
    throw err;
  }
  if (addresses.length === 0) return buildAnswer(question, RCODE.nxDomain, [], TTL_SECONDS);
  // A name that exists but has no record of the asked type (AAAA, MX...) is NODATA, not NXDOMAIN.
  return buildAnswer(question, RCODE.noError, question.type === TYPE_A ? addresses : [], TTL_SECONDS);
}

export class ClusterDnsServer {
  #snapshot: Snapshot | undefined;
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #connections = new Set<Socket>();

  private constructor() {
    this.#udp = createSocket('udp4');
    this.#udp.on('message', (message, remote) => {
      listenerGuard.call(
        UDP_LISTENER,
        () => {
          const answer = this.#answer(message, UDP_LISTENER);
          if (answer !== undefined) this.#udp.send(answer, remote.port, remote.address, this.#onSendError);
        },
        () => {},
      );
    });
    this.#tcp = createServer((socket) => {
      try {
        this.#serveTcp(socket);
      } catch (error) {
        listenerGuard.fail(TCP_LISTENER, socket, error);
      }
    });
  }

  /**
   * UDP and TCP on one port. With port 0 the UDP socket picks it, and that number may
   * already be taken for TCP (any local connection's port): then both close and another
   * port is tried, a few times, as a resolver taking a random port would.
   */
  static async start(address: string, port: number): Promise<ClusterDnsServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new ClusterDnsServer();
      try {
        await server.#bind(address, port);
        return server;
      } catch (error) {
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port !== 0 || !inUse || attempt >= 5) throw error;
      }
    }
  }

  async #bind(address: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#udp.once('error', reject);
      this.#udp.bind(port, address, () => {
        this.#udp.off('error', reject);
        this.#udp.on('error', (error) => listenerGuard.record(UDP_LISTENER, error));
        resolve();
      });
    });
    const udpPort = this.#udp.address().port;
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once('error', (error) => {
        // The UDP half is bound: release it, so a retry (or the caller) starts clean.
        this.#udp.close();
        reject(error);
      });
      this.#tcp.listen(udpPort, address, () => {
        this.#tcp.removeAllListeners('error');
        this.#tcp.on('error', (error) => listenerGuard.record(TCP_LISTENER, error));
        resolve();
      });
    });
  }

  get port(): number {
    return this.#udp.address().port;
  }

  update(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
  }

  async stop(): Promise<void> {
    for (const socket of this.#connections) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.#udp.close(() => resolve())), new Promise<void>((resolve) => this.#tcp.close(() => resolve()))]);
  }

  /** A failed send (an unreachable client address) is counted, not thrown as an 'error' event. */
  readonly #onSendError = (error: Error | null): void => {
    if (error !== null) listenerGuard.record(UDP_LISTENER, error);
  };

  #answer(message: Buffer, listener: string): Buffer | undefined {
    try {
      return answerQuery(this.#snapshot, message);
    } catch (error) {
      // A query we parsed but could not answer is our bug: SERVFAIL, as CoreDNS answers a plugin error.
      listenerGuard.record(listener, error);
      const question = parseQuery(message);
      return question === undefined ? undefined : buildAnswer(question, RCODE.servFail, [], 0);
    }
  }

  /** DNS over TCP: each message is prefixed with its length (RFC 1035 4.2.2). */
  #serveTcp(socket: Socket): void {
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (length > MAX_TCP_MESSAGE || buffered.length < 2 + length) break;
        let answer: Buffer | undefined;
        try {
          answer = this.#answer(buffered.subarray(2, 2 + length), TCP_LISTENER);
        } catch (error) {
          listenerGuard.fail(TCP_LISTENER, socket, error);
          return;
        }
        buffered = buffered.subarray(2 + length);
        if (answer === undefined) continue;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(answer.length, 0);
        socket.write(Buffer.concat([prefix, answer]));
      }
    });
  }
}
