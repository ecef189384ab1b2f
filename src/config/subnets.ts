/**
 * aks-emu.yaml `subnets:`, the subnets of the cluster's virtual network that
 * `service.beta.kubernetes.io/azure-load-balancer-internal-subnet` may name (AKS's
 * internal LB tutorials use `apps-subnet`). The node subnet is `aks-subnet`, the name AKS
 * gives it, and maps to `addresses.nodeSubnet`.
 */
import { parseCIDR } from '../manifests/ip.js';

/** AKS's name for the node subnet of a cluster it creates the virtual network for. */
export const NODE_SUBNET_NAME = 'aks-subnet';

/** Azure's rule for subnet names: 1-80 characters of letters, digits, `_ . -`, starting with a letter or digit, ending with one or `_`. */
const SUBNET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;

export function buildSubnets(input: unknown, nodeSubnet: string, bad: (field: string, message: string) => void): Record<string, string> | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    bad('subnets', 'Invalid value: a mapping of subnet names to CIDRs, such as {apps-subnet: 127.225.1.0/24}');
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, cidr] of Object.entries(input)) {
    if (!SUBNET_NAME.test(name)) {
      bad(`subnets.${name}`, 'Invalid value: an Azure subnet name is 1-80 letters, digits, "_", "." or "-", starting with a letter or digit');
    } else if (typeof cidr !== 'string' || parseCIDR(cidr) === undefined) {
      bad(`subnets.${name}`, `Invalid value: ${JSON.stringify(cidr)}: must be an IPv4 CIDR such as 127.225.1.0/24`);
    } else if (name === NODE_SUBNET_NAME && cidr !== nodeSubnet) {
      bad(`subnets.${name}`, `Invalid value: ${JSON.stringify(cidr)}: ${NODE_SUBNET_NAME} is the node subnet (addresses.nodeSubnet: ${nodeSubnet})`);
    } else out[name] = cidr;
  }
  return out;
}

/** The CIDR a subnet name stands for, the node subnet included; undefined for a name the configuration does not have. */
export function subnetCIDR(subnets: Readonly<Record<string, string>> | undefined, nodeSubnet: string, name: string): string | undefined {
  if (name === NODE_SUBNET_NAME) return nodeSubnet;
  return subnets !== undefined && Object.hasOwn(subnets, name) ? subnets[name] : undefined;
}

/** The names the configuration knows, for messages. */
export function subnetNames(subnets: Readonly<Record<string, string>> | undefined): string[] {
  return [NODE_SUBNET_NAME, ...Object.keys(subnets ?? {}).filter((n) => n !== NODE_SUBNET_NAME)];
}
