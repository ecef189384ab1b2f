/**
 * NodePort and healthCheckNodePort allocation (pkg/registry/core/service/portallocator and
 * storage/alloc.go). One range, 30000-32767, shared by both; its static band 30000-30085
 * is left to explicit requests while random allocation prefers 30086-32767 (KEP-3668).
 */
import type { FieldError } from '../../errors/index.js';
import { objectKey, type Protocol, type Service, type ServicePort } from '../../model/types.js';
import { serviceFieldError } from '../field-errors.js';
import { BandAllocator, staticBandSize } from './band-allocator.js';

export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;
const RANGE_TEXT = `${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`;

export interface NodePortResult {
  /** nodePortKey(service, port) → NodePort. */
  readonly nodePorts: Record<string, number>;
  /** Service key → healthCheckNodePort. */
  readonly healthCheckNodePorts: Record<string, number>;
  readonly errors: FieldError[];
}

export interface PreviousNodePorts {
  readonly nodePorts: Readonly<Record<string, number>>;
  readonly healthCheckNodePorts: Readonly<Record<string, number>>;
}

/** `ns/name:80/TCP`: a ServicePort is identified by its number and protocol. */
export function nodePortKey(serviceKey: string, port: Pick<ServicePort, 'port' | 'protocol'>): string {
  return `${serviceKey}:${port.port}/${port.protocol}`;
}

/** NodePort Services get one per port; LoadBalancer ones too unless allocateLoadBalancerNodePorts is false. */
export function needsNodePort(service: Service, port: ServicePort): boolean {
  if (service.spec.type === 'NodePort') return true;
  if (service.spec.type !== 'LoadBalancer') return false;
  return service.spec.allocateLoadBalancerNodePorts || port.nodePort !== undefined;
}

/** kube-proxy serves a health check port only for LoadBalancer Services with externalTrafficPolicy Local. */
export function needsHealthCheckNodePort(service: Service): boolean {
  return service.spec.type === 'LoadBalancer' && service.spec.externalTrafficPolicy === 'Local';
}

export function createNodePortAllocator(): BandAllocator {
  const size = NODE_PORT_RANGE.last - NODE_PORT_RANGE.first + 1;
  return new BandAllocator(NODE_PORT_RANGE.first, NODE_PORT_RANGE.last, staticBandSize(size, 16, 128, 32));
}

const HEALTH_CHECK = 'healthCheck';

interface Need {
  readonly service: Service;
  readonly owner: string;
  /** Where the result is stored: a nodePortKey, or the Service key for the health check port. */
  readonly key: string;
  readonly field: string;
  /** The port's protocol, or HEALTH_CHECK: one Service may use one number once per protocol. */
  readonly protocol: Protocol | typeof HEALTH_CHECK;
  /** The ServicePort number: ports of one Service with the same number share a NodePort. */
  readonly servicePort?: number;
  readonly requested?: number;
  readonly previous?: number;
}

function needsOf(service: Service, previous: PreviousNodePorts): Need[] {
  const owner = objectKey(service.metadata);
  const needs: Need[] = service.spec.ports.flatMap((port, i): Need[] => {
    if (!needsNodePort(service, port)) return [];
    const key = nodePortKey(owner, port);
    return [
      {
        service,
        owner,
        key,
        field: `spec.ports[${i}].nodePort`,
        protocol: port.protocol,
        servicePort: port.port,
        requested: port.nodePort,
        previous: previous.nodePorts[key],
      },
    ];
  });
  if (needsHealthCheckNodePort(service)) {
    needs.push({
      service,
      owner,
      key: owner,
      field: 'spec.healthCheckNodePort',
      protocol: HEALTH_CHECK,
      requested: service.spec.healthCheckNodePort,
      previous: previous.healthCheckNodePorts[owner],
    });
  }
  return needs;
}

/** Kept ports first (re-applied Services keep theirs), then requested ones, then random ones. */
export function allocateNodePorts(
  services: readonly Service[],
  random: () => number,
  previous: PreviousNodePorts = { nodePorts: {}, healthCheckNodePorts: {} },
): NodePortResult {
  const allocator = createNodePortAllocator();
  const nodePorts: Record<string, number> = {};
  const healthCheckNodePorts: Record<string, number> = {};
  const errors: FieldError[] = [];
  /** owner → NodePort → protocols using it. */
  const held = new Map<string, Map<number, Set<string>>>();
  const done = new Set<Need>();

  const record = (need: Need, value: number): void => {
    let ports = held.get(need.owner);
    if (!ports) held.set(need.owner, (ports = new Map()));
    let protocols = ports.get(value);
    if (!protocols) ports.set(value, (protocols = new Set()));
    protocols.add(need.protocol);
    if (need.protocol === HEALTH_CHECK) healthCheckNodePorts[need.key] = value;
    else nodePorts[need.key] = value;
    done.add(need);
  };

  /** Within one Service a number may serve several protocols, never the health check as well. */
  const claim = (need: Need, value: number): 'ok' | 'not-in-range' | 'allocated' | 'duplicate' => {
    const result = allocator.claim(value, need.owner);
    if (result.ok) return 'ok';
    if (result.reason === 'not-in-range') return 'not-in-range';
    if (result.owner !== need.owner) return 'allocated';
    const protocols = held.get(need.owner)?.get(value) ?? new Set<string>();
    if (need.protocol === HEALTH_CHECK || protocols.has(HEALTH_CHECK)) return 'allocated';
    return protocols.has(need.protocol) ? 'duplicate' : 'ok';
  };

  const needs = services.flatMap((s) => needsOf(s, previous));

  for (const need of needs) {
    const kept = need.previous;
    if (kept === undefined || (need.requested !== undefined && need.requested !== kept)) continue;
    if (claim(need, kept) === 'ok') record(need, kept);
  }

  for (const need of needs) {
    if (done.has(need) || need.requested === undefined) continue;
    const outcome = claim(need, need.requested);
    if (outcome === 'ok') record(need, need.requested);
    else errors.push(requestError(need, need.requested, outcome));
  }

  const siblings = new Map<string, Need[]>();
  for (const need of needs) {
    if (need.servicePort === undefined) continue;
    const id = `${need.owner}#${need.servicePort}`;
    siblings.set(id, [...(siblings.get(id) ?? []), need]);
  }
  for (const need of needs) {
    if (done.has(need) || need.requested !== undefined) continue;
    const shared = sharedNodePort(need, siblings.get(`${need.owner}#${need.servicePort}`) ?? [], nodePorts);
    const value = shared ?? allocator.next(need.owner, random);
    if (value !== undefined) {
      record(need, value);
    } else if (need.protocol === HEALTH_CHECK) {
      errors.push(serviceFieldError(need.service, need.field, 'Invalid', 0, 'failed to allocate a HealthCheck NodePort 0: range is full'));
    } else {
      errors.push(serviceFieldError(need.service, need.field, 'Invalid', 0, 'failed to allocate a nodePort: range is full'));
    }
  }
  return { nodePorts, healthCheckNodePorts, errors };
}

/** initNodePorts: a port without a request reuses the NodePort of a same-numbered port of its Service. */
function sharedNodePort(need: Need, siblings: readonly Need[], nodePorts: Record<string, number>): number | undefined {
  for (const other of siblings) {
    if (other === need || other.protocol === need.protocol) continue;
    const value = nodePorts[other.key];
    if (value !== undefined) return value;
  }
  return undefined;
}

function requestError(need: Need, value: number, outcome: 'not-in-range' | 'allocated' | 'duplicate'): FieldError {
  if (outcome === 'duplicate') return serviceFieldError(need.service, need.field, 'Duplicate', value);
  const why =
    outcome === 'not-in-range' ? `provided port is not in the valid range. The range of valid ports is ${RANGE_TEXT}` : 'provided port is already allocated';
  const detail = need.protocol === HEALTH_CHECK ? `failed to allocate requested HealthCheck NodePort ${value}: ${why}` : why;
  return serviceFieldError(need.service, need.field, 'Invalid', value, detail);
}
