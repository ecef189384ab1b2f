/**
 * The embedded runtime's cluster DNS: a policed ClusterDnsServer on kube-dns's ClusterIP
 * (the service CIDR's .10, a loopback address) on port 53, bound as the LB frontends bind
 * their ports (a privileged port needs root or CAP_NET_BIND_SERVICE there too). Process
 * pods' preload sends its queries there from the pod's IP (src/pods/process/node-preload.ts).
 */
import { clusterDnsAddress } from '../cluster/netpol/cluster-dns.js';
import { ClusterDnsServer } from '../dataplane/dns/server.js';
import { AksEmuError } from '../errors/index.js';

export const CLUSTER_DNS_PORT = 53;

export interface ClusterDnsEndpoint {
  readonly address: string;
  readonly port: number;
}

export function clusterDnsEndpoint(serviceCIDR: string): ClusterDnsEndpoint {
  return { address: clusterDnsAddress(serviceCIDR), port: CLUSTER_DNS_PORT };
}

/** Binds UDP and TCP; rejects with AKS_EMU_ADDRESS_IN_USE naming the address, as a frontend that cannot bind does. */
export async function startClusterDns({ address, port }: ClusterDnsEndpoint): Promise<ClusterDnsServer> {
  try {
    return await ClusterDnsServer.start(address, port, { policed: true, absolute: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `cannot listen on ${address}:${port} (cluster DNS, UDP and TCP): ${code}`, { cause: error });
  }
}
