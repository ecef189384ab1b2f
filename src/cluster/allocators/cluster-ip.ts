/**
 * ClusterIP allocation (pkg/registry/core/service/ipallocator): random from the service
 * CIDR without its network and broadcast addresses; a requested address is honoured when
 * it is in range and free. AKS reserves .1 for `kubernetes.default` and .10 for kube-dns;
 * aks-emu creates no Service objects for them but keeps their addresses taken.
 */
import type { FieldError } from '../../errors/index.js';
import { cidrSize, formatIPv4, parseCIDR, parseIPv4 } from '../../manifests/ip.js';
import { objectKey, type Service } from '../../model/types.js';
import { serviceFieldError } from '../field-errors.js';
import { BandAllocator, staticBandSize } from './band-allocator.js';

export interface ClusterIPResult {
  /** Service key → allocated address; headless and ExternalName Services have none. */
  readonly clusterIPs: Record<string, string>;
  readonly errors: FieldError[];
}

const RESERVED = [
  { offset: 1, owner: 'default/kubernetes' },
  { offset: 10, owner: 'kube-system/kube-dns' },
];

/** Whether a Service gets a virtual IP (not ExternalName, not headless). */
export function wantsClusterIP(service: Service): boolean {
  return service.spec.type !== 'ExternalName' && service.spec.clusterIP !== 'None';
}

export function createClusterIPAllocator(serviceCIDR: string): BandAllocator {
  const cidr = parseCIDR(serviceCIDR);
  if (!cidr) return new BandAllocator(1, 0, 0);
  const size = cidrSize(cidr);
  const allocator = new BandAllocator(cidr.base + 1, cidr.base + size - 2, staticBandSize(size, 16, 256, 16));
  for (const r of RESERVED) allocator.claim(cidr.base + r.offset, r.owner);
  return allocator;
}

/** Kept addresses first (re-applied Services keep theirs), then requested ones, then random ones. */
export function allocateClusterIPs(
  services: readonly Service[],
  serviceCIDR: string,
  random: () => number,
  previous: Readonly<Record<string, string>> = {},
): ClusterIPResult {
  const allocator = createClusterIPAllocator(serviceCIDR);
  const clusterIPs: Record<string, string> = {};
  const errors: FieldError[] = [];
  const wanting = services.filter(wantsClusterIP);
  const pending: Service[] = [];

  for (const service of wanting) {
    const key = objectKey(service.metadata);
    const kept = previous[key];
    const requested = service.spec.clusterIP;
    const keptValue = kept === undefined ? undefined : parseIPv4(kept);
    if (keptValue !== undefined && (requested === undefined || requested === kept) && allocator.claim(keptValue, key).ok) {
      clusterIPs[key] = formatIPv4(keptValue);
    } else {
      pending.push(service);
    }
  }

  const unrequested: Service[] = [];
  for (const service of pending) {
    const requested = service.spec.clusterIP;
    if (requested === undefined || requested === '') {
      unrequested.push(service);
      continue;
    }
    const key = objectKey(service.metadata);
    const value = parseIPv4(requested);
    const result = value === undefined ? ({ ok: false, reason: 'not-in-range' } as const) : allocator.claim(value, key);
    if (result.ok) {
      clusterIPs[key] = requested;
      continue;
    }
    const why =
      result.reason === 'not-in-range'
        ? `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${serviceCIDR}`
        : 'provided IP is already allocated';
    errors.push(serviceFieldError(service, 'spec.clusterIPs', 'Invalid', [requested], `failed to allocate IP ${requested}: ${why}`));
  }

  for (const service of unrequested) {
    const key = objectKey(service.metadata);
    const value = allocator.next(key, random);
    if (value === undefined) {
      // The API server answers 500 here; there is no field at fault, only a full range.
      errors.push(serviceFieldError(service, 'spec.clusterIPs', 'Invalid', [], 'failed to allocate a serviceIP: range is full'));
    } else {
      clusterIPs[key] = formatIPv4(value);
    }
  }
  return { clusterIPs, errors };
}
