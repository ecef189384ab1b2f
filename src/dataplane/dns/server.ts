/**
 * The cluster DNS at kube-dns's ClusterIP (10.0.0.10 on AKS; 127.10.0.10 in the embedded
 * runtime), UDP and TCP on one port, answering from the current snapshot with CoreDNS's
 * kubernetes plugin names: `svc.ns.svc.cluster.local` → the ClusterIP, a headless Service →
 * its ready pod IPs, `host.svc.ns.svc.cluster.local` → that pod; any other name NXDOMAIN.
 *
 * Both runtimes run it. The container runtime's reads a short name as a pod of `default`
 * would (the toolbox's search path), and its pods' nftables rules police the queries. The
 * embedded runtime's reads names as absolute, as CoreDNS does (the resolver walks the
 * search list), and is `policed`: each query asks the snapshot's NetworkPolicy table
 * whether its source may reach kube-dns's stand-in peer on 53 (src/cluster/netpol/
 * cluster-dns.ts); a drop gets no reply at all, so the resolver times out as on AKS.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

import type { Snapshot } from '../../cluster/snapshot.js';
import type { Protocol } from '../../model/types.js';
import { listenerGuard } from '../l4/listener-guard.js';
import { netpolGate } from '../netpol-gate.js';
import { AksEmuError } from '../../errors/index.js';
import { resolveServiceName } from '../../cluster/dns.js';
import { buildAnswer, buildFormatError, parseQuery, RCODE, TYPE_A } from './message.js';

/** CoreDNS's kubernetes plugin answers with ttl 5 by default. */
const TTL_SECONDS = 5;
const MAX_TCP_MESSAGE = 65_535;
const UDP_LISTENER = 'cluster DNS (udp)';
const TCP_LISTENER = 'cluster DNS (tcp)';
/** The port NetworkPolicy sees: CoreDNS's `dns`/`dns-tcp`, whichever port the listener is bound to. */
const DNS_PORT = 53;

export interface ClusterDnsOptions {
  /** Ask the snapshot's NetworkPolicy table per query (the embedded runtime, which has no other hop to police). */
  readonly policed?: boolean;
  /** Read every name as absolute, as CoreDNS does; otherwise a short name is searched from `default`. */
  readonly absolute?: boolean;
}

/**
 * The answer to one raw query against a snapshot (exported for tests): names are searched
 * from `namespace`'s resolv.conf search list, or read as absolute with `namespace` null.
 */
export function answerQuery(snapshot: Snapshot | undefined, message: Buffer, namespace: string | null = 'default'): Buffer | undefined {
  const question = parseQuery(message);
  if (question === undefined) return buildFormatError(message);
  if (snapshot === undefined) return buildAnswer(question, RCODE.servFail, [], 0);
  let addresses: string[];
  try {
    // A trailing dot makes the name absolute: no search list.
    const name = namespace === null ? `${question.name}.` : question.name;
    addresses = /^\d+\.\d+\.\d+\.\d+$/.test(question.name) ? [] : resolveServiceName(snapshot, name, namespace ?? 'default');
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
  readonly #options: ClusterDnsOptions;
  readonly #address: string;

  private constructor(address: string, options: ClusterDnsOptions) {
    this.#address = address;
    this.#options = options;
    this.#udp = createSocket('udp4');
    this.#udp.on('message', (message, remote) => {
      listenerGuard.call(
        UDP_LISTENER,
        () => {
          if (this.#drops(remote.address, 'UDP')) return;
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
  static async start(address: string, port: number, options: ClusterDnsOptions = {}): Promise<ClusterDnsServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new ClusterDnsServer(address, options);
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

  /** Whether NetworkPolicy drops a query from `source` (policed servers only). */
  #drops(source: string, protocol: Protocol): boolean {
    if (this.#options.policed !== true) return false;
    const gate = netpolGate(this.#snapshot);
    return gate !== undefined && gate.decide({ source, destination: this.#address, port: DNS_PORT, protocol }).verdict === 'drop';
  }

  #answer(message: Buffer, listener: string): Buffer | undefined {
    try {
      return answerQuery(this.#snapshot, message, this.#options.absolute === true ? null : 'default');
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
    // A dropped connection is held silent: whatever it sends goes unanswered, as after a dropped SYN.
    if (socket.remoteAddress === undefined || this.#drops(socket.remoteAddress, 'TCP')) {
      socket.resume();
      return;
    }
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
