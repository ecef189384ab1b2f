/**
 * The embedded runtime's cluster DNS: a policed ClusterDnsServer on kube-dns's ClusterIP
 * (the service CIDR's .10, a loopback address), port 53, bound as the LB frontends bind
 * their ports. Where port 53 needs a privilege the process lacks (Linux without root or
 * CAP_NET_BIND_SERVICE), it takes a free port instead and says so once: process pods are
 * told the port (AKS_EMU_DNS), so their lookups and their policing work the same, and
 * NetworkPolicy still sees port 53. Process pods' preload sends its queries here from the
 * pod's IP (src/pods/process/node-preload.ts).
 */
import { clusterDnsAddress } from '../cluster/netpol/cluster-dns.js';
import type { Snapshot } from '../cluster/snapshot.js';
import { ClusterDnsServer } from '../dataplane/dns/server.js';
import { AksEmuError } from '../errors/index.js';

export const CLUSTER_DNS_PORT = 53;

export interface ClusterDnsEndpoint {
  readonly address: string;
  readonly port: number;
}

export class EmbeddedDns {
  private constructor(
    readonly endpoint: ClusterDnsEndpoint,
    readonly server: ClusterDnsServer,
  ) {}

  /** Binds UDP and TCP; rejects with AKS_EMU_ADDRESS_IN_USE naming the address, as a frontend that cannot bind does. */
  static async start(serviceCIDR: string, notice: (line: string) => void): Promise<EmbeddedDns> {
    const address = clusterDnsAddress(serviceCIDR);
    const bind = (port: number) => ClusterDnsServer.start(address, port, { policed: true, absolute: true });
    try {
      let server: ClusterDnsServer;
      try {
        server = await bind(CLUSTER_DNS_PORT);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
        server = await bind(0);
        notice(
          `cluster DNS: ${address}:${CLUSTER_DNS_PORT} needs root or CAP_NET_BIND_SERVICE; serving on ${address}:${server.port} instead (process pods are told; NetworkPolicy still sees port 53)`,
        );
      }
      return new EmbeddedDns({ address, port: server.port }, server);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `cannot listen on ${address}:${CLUSTER_DNS_PORT} (cluster DNS, UDP and TCP): ${code}`, { cause: error });
    }
  }

  update(snapshot: Snapshot): void {
    this.server.update(snapshot);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
