/**
 * Why a LoadBalancer Service gets no frontend, in the words cloud-provider-azure's
 * EnsureLoadBalancer returns (the service controller prefixes them with `Error syncing
 * load balancer: failed to ensure load balancer: ` in the SyncLoadBalancerFailed event),
 * or Azure's error code and message where the API call is what fails. aks-emu adds, in
 * parentheses, the local fact that explains it (the configured range).
 */

/** The virtual network AKS creates for a cluster (`aks-vnet-<hash>`), as messages name it. */
export const VNET_NAME = 'aks-vnet';
/** The node resource group AKS creates (`MC_<group>_<cluster>_<region>`), as messages name it. */
export const NODE_RESOURCE_GROUP = 'mc_aks-emu';

export type SyncFailure =
  | { readonly kind: 'SubnetNotFound'; readonly service: string; readonly loadBalancer: string; readonly subnet: string; readonly known: readonly string[] }
  | { readonly kind: 'PublicIPNotFound'; readonly ip: string; readonly range: string }
  | { readonly kind: 'PrivateIPNotInSubnet'; readonly ip: string; readonly subnet: string }
  | { readonly kind: 'PrivateIPInReservedRange'; readonly ip: string; readonly subnet: string }
  | { readonly kind: 'PrivateIPAllocated'; readonly ip: string; readonly frontend: string; readonly owner: string }
  | { readonly kind: 'PublicIPInUse'; readonly ip: string; readonly owner: string }
  | { readonly kind: 'RangeFull'; readonly range: string }
  | { readonly kind: 'RangeNotCIDR' }
  | { readonly kind: 'TooManyRules'; readonly rules: number; readonly max: number };

export function syncFailureMessage(f: SyncFailure): string {
  switch (f.kind) {
    case 'SubnetNotFound':
      return `ensure(${f.service}): lb(${f.loadBalancer}) - failed to get subnet: ${VNET_NAME}/${f.subnet} (aks-emu.yaml subnets: has ${f.known.join(', ')})`;
    case 'PublicIPNotFound':
      return `findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address ${f.ip} in resource group ${NODE_RESOURCE_GROUP} (public frontends come from ${f.range})`;
    case 'PrivateIPNotInSubnet':
      return `Code="PrivateIPAddressNotInSubnet" Message="Private static IP address ${f.ip} does not belong to the range of subnet prefix ${f.subnet}."`;
    case 'PrivateIPInReservedRange':
      return `Code="PrivateIPAddressInReservedRange" Message="Private static IP address ${f.ip} falls within reserved IP range of subnet prefix ${f.subnet}."`;
    case 'PrivateIPAllocated':
      return `Code="PrivateIPAddressIsAllocated" Message="IP configuration ${f.frontend} is using the private IP address ${f.ip} which is already allocated to resource ${f.owner}."`;
    case 'PublicIPInUse':
      return `the public IP ${f.ip} is already the frontend of Service ${f.owner} (aks-emu does not share one frontend between Services)`;
    case 'RangeFull':
      return `no free address left in ${f.range}`;
    case 'RangeNotCIDR':
      return 'the frontend address range is not a CIDR';
    case 'TooManyRules':
      return `the Service needs ${f.rules} load-balancing rules, more than the ${f.max} one load balancer may hold`;
  }
}

/** The service controller's wording around a failed EnsureLoadBalancer (the SyncLoadBalancerFailed event's message). */
export function syncLoadBalancerFailedMessage(reason: string): string {
  return `Error syncing load balancer: failed to ensure load balancer: ${reason}`;
}

/** One line per LoadBalancer Service left without a frontend, for `validate`, `up` and the library's notices. */
export function pendingFrontendWarnings(frontends: Readonly<Record<string, { readonly pendingReason?: string }>>): string[] {
  return Object.entries(frontends)
    .filter(([, f]) => f.pendingReason !== undefined)
    .map(([key, f]) => `Service ${key}: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): ${syncLoadBalancerFailedMessage(f.pendingReason!)}`);
}
