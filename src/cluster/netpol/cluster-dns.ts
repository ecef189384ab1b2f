/**
 * The cluster DNS as NetworkPolicy sees it. On AKS, CoreDNS runs as pods in `kube-system`
 * labelled `k8s-app: kube-dns` behind the Service kube-dns at the service CIDR's .10, and a
 * policy allows lookups by selecting those pods on port 53 (UDP and TCP). aks-emu serves the
 * cluster DNS from its nodes at that address and has no CoreDNS pods, so the compiled table
 * holds one stand-in peer for them at the DNS address, with CoreDNS's labels and named
 * ports: the rules that would admit CoreDNS's pods admit the DNS address. Pure.
 */
import { AksEmuError } from '../../errors/index.js';
import { formatIPv4, parseCIDR } from '../../manifests/ip.js';
import type { Protocol } from '../../model/types.js';

/** AKS gives kube-dns the service CIDR's .10. */
const DNS_OFFSET = 10;

export const KUBE_DNS = {
  namespace: 'kube-system',
  name: 'kube-dns',
  labels: { 'k8s-app': 'kube-dns' },
  /** CoreDNS's container ports on AKS. */
  namedPorts: {
    dns: { port: 53, protocol: 'UDP' },
    'dns-tcp': { port: 53, protocol: 'TCP' },
    metrics: { port: 9153, protocol: 'TCP' },
  } satisfies Record<string, { port: number; protocol: Protocol }>,
} as const;

/** The cluster DNS address of a service CIDR, or undefined when it is not a CIDR. */
export function clusterDnsIn(serviceCIDR: string): string | undefined {
  const cidr = parseCIDR(serviceCIDR);
  return cidr === undefined ? undefined : formatIPv4(cidr.base + DNS_OFFSET);
}

export function clusterDnsAddress(serviceCIDR: string): string {
  const address = clusterDnsIn(serviceCIDR);
  if (address === undefined) throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `service CIDR ${serviceCIDR} is not a CIDR`);
  return address;
}
