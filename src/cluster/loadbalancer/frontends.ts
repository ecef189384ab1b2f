/**
 * Frontend IP configurations: which shared Azure LB a LoadBalancer Service lands on and
 * which address its frontend gets.
 *
 * Public frontends take the first free address of the public range; internal ones
 * (`azure-load-balancer-internal: "true"`) the first free address of the node subnet, or
 * of the subnet `azure-load-balancer-internal-subnet` names (a name of aks-emu.yaml's
 * `subnets:`, `aks-subnet` for the node subnet, or a CIDR), never a node's address nor
 * Azure's reserved .0-.3. A requested address (`azure-load-balancer-ipv4`, else
 * spec.loadBalancerIP) is used when it is in that range and free; otherwise, and for a
 * subnet name the configuration does not have, the Service stays `<pending>` with
 * cloud-provider-azure's reason, as on AKS, where the Service exists and only the
 * SyncLoadBalancerFailed event tells why.
 */
import type { ClusterConfig } from '../../config/types.js';
import type { FieldError } from '../../errors/index.js';
import { cidrContains, cidrSize, formatIPv4, parseCIDR, parseIPv4 } from '../../manifests/ip.js';
import { objectKey, type Service } from '../../model/types.js';
import { AZURE_RESERVED_HOSTS, type NodeSpec } from '../nodes.js';
import { ANNOTATIONS, isInternal, requestedFrontendIPOf } from './annotations.js';
import { frontendName, loadBalancerName, parseLoadBalancerName } from './names.js';
import { rulePorts } from './rules.js';
import { serviceFieldError } from '../field-errors.js';
import { subnetCIDR, subnetNames } from '../../config/subnets.js';
import { syncFailureMessage, type SyncFailure } from './sync-failures.js';

export interface FrontendAllocation {
  readonly internal: boolean;
  readonly loadBalancerName: string;
  readonly frontendName: string;
  /** undefined while pending. */
  readonly ip?: string;
  readonly pendingReason?: string;
}

export interface FrontendResult {
  readonly frontends: Record<string, FrontendAllocation>;
  readonly errors: FieldError[];
}

/** cloud-provider-azure programs LoadBalancer Services that name no other loadBalancerClass. */
export function programmedByAzure(service: Service): boolean {
  return service.spec.type === 'LoadBalancer' && service.spec.loadBalancerClass === undefined;
}

interface Pool {
  readonly first: number;
  readonly last: number;
  /** For messages: `the public frontend range 127.20.0.0/16`. */
  readonly label: string;
  readonly cidr: string;
  readonly internal: boolean;
}

function poolOf(cidrText: string, skip: number, label: string, internal: boolean): Pool | undefined {
  const cidr = parseCIDR(cidrText);
  if (!cidr) return undefined;
  return { first: cidr.base + skip, last: cidr.base + cidrSize(cidr) - 2, label: `${label} ${cidrText}`, cidr: cidrText, internal };
}

function poolFor(service: Service, config: ClusterConfig): { pool?: Pool; failure?: SyncFailure } {
  if (!isInternal(service)) return { pool: poolOf(config.addresses.publicFrontends, 1, 'the public frontend range', false) };
  const subnet = service.metadata.annotations[ANNOTATIONS.internalSubnet]?.trim();
  if (!subnet) return { pool: poolOf(config.addresses.nodeSubnet, AZURE_RESERVED_HOSTS, 'the node subnet', true) };
  const named = subnetCIDR(config.subnets, config.addresses.nodeSubnet, subnet);
  // A CIDR in the annotation is aks-emu's own extension, kept for manifests written before subnet names.
  const pool = poolOf(named ?? subnet, AZURE_RESERVED_HOSTS, named ? `the subnet ${subnet}` : 'the internal subnet', true);
  if (pool) return { pool };
  const known = subnetNames(config.subnets);
  const name = objectKey(service.metadata);
  return { failure: { kind: 'SubnetNotFound', service: name, loadBalancer: loadBalancerName(true, 1), subnet, known } };
}

interface Candidate {
  readonly service: Service;
  readonly key: string;
  readonly internal: boolean;
  readonly pool?: Pool;
  readonly failure?: SyncFailure;
  readonly requested?: string;
  readonly requestedField?: string;
  readonly rules: number;
}

/** Kept frontends first (re-applied Services keep address and LB), then requested addresses, then automatic ones. */
export function allocateFrontends(
  services: readonly Service[],
  config: ClusterConfig,
  nodes: readonly NodeSpec[],
  previous: Readonly<Record<string, FrontendAllocation>> = {},
): FrontendResult {
  const errors: FieldError[] = [];
  const used = new Map<number, string>();
  for (const node of nodes) {
    const address = parseIPv4(node.address);
    if (address !== undefined) used.set(address, `node ${node.name}`);
  }
  const ips = new Map<string, string | { pendingReason: string }>();
  const lbOf = new Map<string, number>();
  const load = new Map<string, { frontends: number; rules: number }>();
  const loadOf: LoadOf = (internal, ordinal) => {
    const name = loadBalancerName(internal, ordinal);
    let l = load.get(name);
    if (!l) load.set(name, (l = { frontends: 0, rules: 0 }));
    return l;
  };

  const candidates: Candidate[] = services.filter(programmedByAzure).map((service) => {
    const { pool, failure } = poolFor(service, config);
    const requested = requestedFrontendIPOf(service);
    const base = { service, key: objectKey(service.metadata), internal: isInternal(service), rules: rulePorts(service).length };
    return {
      ...base,
      ...(pool ? { pool } : {}),
      ...(failure ? { failure } : {}),
      ...(requested ? { requested: requested.value, requestedField: requested.field } : {}),
    };
  });

  for (const c of candidates) {
    const before = previous[c.key];
    if (before?.ip === undefined || !c.pool || before.internal !== c.internal) continue;
    const ip = parseIPv4(before.ip);
    if (ip === undefined || ip < c.pool.first || ip > c.pool.last || used.has(ip)) continue;
    if (c.requested !== undefined && c.requested !== before.ip) continue;
    used.set(ip, c.key);
    ips.set(c.key, before.ip);
    const lb = parseLoadBalancerName(before.loadBalancerName);
    if (lb && lb.internal === c.internal) {
      lbOf.set(c.key, lb.ordinal);
      const l = loadOf(c.internal, lb.ordinal);
      l.frontends += 1;
      l.rules += c.rules;
    }
  }

  for (const c of candidates) {
    if (ips.has(c.key) || c.requested === undefined || !c.pool) continue;
    const claimed = claimRequested(c.key, c.requested, c.pool, used, frontendName(c.service.metadata.uid));
    ips.set(c.key, typeof claimed === 'string' ? claimed : { pendingReason: claimed.pendingReason });
    // An address that is not an IPv4 address is the user's mistake (the API server refuses it);
    // one outside the range or taken leaves the Service pending, as on AKS.
    if (typeof claimed !== 'string' && claimed.invalid) {
      errors.push(serviceFieldError(c.service, c.requestedField!, 'Invalid', c.requested, claimed.pendingReason));
    }
  }

  // Addresses are only taken from here on, so everything below a pool's cursor stays
  // taken: each pool is walked once in all, not once per Service.
  const cursors = new Map<string, number>();
  const lowestFree = (pool: Pool): number | undefined => {
    const at = `${pool.first}-${pool.last}`;
    let n = cursors.get(at) ?? pool.first;
    while (n <= pool.last && used.has(n)) n++;
    cursors.set(at, n);
    return n <= pool.last ? n : undefined;
  };
  for (const c of candidates) {
    if (ips.has(c.key)) continue;
    if (!c.pool) {
      ips.set(c.key, { pendingReason: syncFailureMessage(c.failure ?? { kind: 'RangeNotCIDR' }) });
      continue;
    }
    const found = lowestFree(c.pool);
    if (found === undefined) ips.set(c.key, { pendingReason: syncFailureMessage({ kind: 'RangeFull', range: c.pool.label }) });
    else {
      used.set(found, c.key);
      ips.set(c.key, formatIPv4(found));
    }
  }

  const frontends: Record<string, FrontendAllocation> = {};
  const open = new Map<boolean, number>();
  for (const c of candidates) {
    const ip = ips.get(c.key);
    const kept = lbOf.get(c.key);
    const placement = kept === undefined ? placeOnLoadBalancer(c, typeof ip === 'string', loadOf, config, open) : { ordinal: kept };
    const pendingReason = typeof ip === 'object' ? ip.pendingReason : placement.pendingReason;
    frontends[c.key] = {
      internal: c.internal,
      loadBalancerName: loadBalancerName(c.internal, placement.ordinal),
      frontendName: frontendName(c.service.metadata.uid),
      ...(typeof ip === 'string' && pendingReason === undefined ? { ip } : {}),
      ...(pendingReason === undefined ? {} : { pendingReason }),
    };
  }
  return { frontends, errors };
}

type LoadOf = (internal: boolean, ordinal: number) => { frontends: number; rules: number };

/**
 * The first LB of the Service's kind with room for one more frontend and its rules; only a
 * frontend with an address takes room. `open` keeps, per kind, the lowest LB with a free
 * frontend and a free rule: load is only added, so the LBs below it stay full for any
 * Service with rules, and each LB is passed over once in all.
 */
function placeOnLoadBalancer(
  c: Candidate,
  hasAddress: boolean,
  loadOf: LoadOf,
  config: ClusterConfig,
  open: Map<boolean, number>,
): { ordinal: number; pendingReason?: string } {
  const maxRules = config.maxRulesPerLoadBalancer;
  if (c.rules > maxRules) {
    return { ordinal: 1, pendingReason: syncFailureMessage({ kind: 'TooManyRules', rules: c.rules, max: maxRules }) };
  }
  let ordinal = 1;
  if (c.rules > 0) {
    const full = (l: { frontends: number; rules: number }) => l.frontends >= config.maxFrontendsPerLoadBalancer || l.rules >= maxRules;
    ordinal = open.get(c.internal) ?? 1;
    while (full(loadOf(c.internal, ordinal))) ordinal += 1;
    open.set(c.internal, ordinal);
  }
  for (
    let l = loadOf(c.internal, ordinal);
    l.frontends >= config.maxFrontendsPerLoadBalancer || l.rules + c.rules > maxRules;
    l = loadOf(c.internal, ordinal)
  ) {
    ordinal += 1;
  }
  if (hasAddress) {
    const l = loadOf(c.internal, ordinal);
    l.frontends += 1;
    l.rules += c.rules;
  }
  return { ordinal };
}

function claimRequested(
  key: string,
  wanted: string,
  pool: Pool,
  used: Map<number, string>,
  frontend: string,
): string | { pendingReason: string; invalid?: true } {
  const ip = parseIPv4(wanted);
  if (ip === undefined) return { pendingReason: `the requested load balancer IP "${wanted}" is not a valid IPv4 address`, invalid: true };
  const pending = (f: SyncFailure) => ({ pendingReason: syncFailureMessage(f) });
  if (ip < pool.first || ip > pool.last) {
    if (!pool.internal) return pending({ kind: 'PublicIPNotFound', ip: wanted, range: pool.cidr });
    const inside = cidrContains(pool.cidr, ip);
    return pending({ kind: inside ? 'PrivateIPInReservedRange' : 'PrivateIPNotInSubnet', ip: wanted, subnet: pool.cidr });
  }
  const owner = used.get(ip);
  if (owner !== undefined) {
    const holder = owner.startsWith('node ') ? owner : `the frontend of Service ${owner}`;
    return pending(pool.internal ? { kind: 'PrivateIPAllocated', ip: wanted, frontend, owner: holder } : { kind: 'PublicIPInUse', ip: wanted, owner });
  }
  used.set(ip, key);
  return wanted;
}
