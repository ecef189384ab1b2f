/**
 * Active faults + the snapshot → one frozen table per hop, keyed the way each hop already
 * knows itself: a node by name, a pod by IP, a Service port by `ns/name:port` (per kind
 * of hop: frontend, nodeport or service), an Ingress or HTTPRoute by `ns/name`. Pure:
 * what a fault counts (fired, first-K, open flows per client) lives in its FaultState,
 * which the registry owns and the table only points to. No fault at all compiles to
 * undefined, so every hook costs one check.
 */
import type { Snapshot } from '../cluster/snapshot.js';
import type { FaultSpec, FaultTarget, NodeFault, PodFault, PortFault, RuleFault } from './types.js';

/** What one fault counts while it runs; shared by every table compiled while it lives. */
export class FaultState {
  /** How often the fault took effect. */
  fired = 0;
  /** Called after each firing (the registry wakes `waitForFault` with it). */
  onFire: (() => void) | undefined;
  /** Requests or connections it has seen (first-K counts these). */
  seen = 0;
  /** Open flows per client address (SNAT port exhaustion). */
  readonly openByClient = new Map<string, number>();

  fire(): void {
    this.fired++;
    this.onFire?.();
  }
}

/** The table the hops read: replaced whole on every change, undefined while no fault is active. */
export interface FaultHolder {
  table: FaultTable | undefined;
}

export interface ActiveFault<S extends FaultSpec = FaultSpec> {
  readonly id: string;
  readonly spec: S;
  readonly target: FaultTarget;
  /** Clock time the fault was added. */
  readonly startedAt: number;
  readonly state: FaultState;
}

export interface NodeFaultSet {
  /** fail-probes, drain or partition: every LB probe of the node fails. */
  readonly probes?: ActiveFault<NodeFault>;
  readonly partition?: ActiveFault<NodeFault>;
  readonly slow?: ActiveFault<Extract<NodeFault, { type: 'slow' }>>;
}

export interface PodFaultSet {
  readonly hang?: ActiveFault<PodFault>;
  readonly slowStart?: ActiveFault<Extract<PodFault, { type: 'slow-start' }>>;
}

export type PortHop = 'service' | 'frontend' | 'nodeport';

export interface FaultTable {
  readonly nodes: ReadonlyMap<string, NodeFaultSet>;
  /** Pod IP → its faults. */
  readonly pods: ReadonlyMap<string, PodFaultSet>;
  /** `${hop}|ns/name:portName` → the faults of that Service port at that hop. */
  readonly ports: ReadonlyMap<string, readonly ActiveFault<PortFault>[]>;
  /** `ingress|ns/name` or `httproute|ns/name`. */
  readonly rules: ReadonlyMap<string, readonly ActiveFault<RuleFault>[]>;
}

export function portFaultKey(hop: PortHop, servicePort: string): string {
  return `${hop}|${servicePort}`;
}

export function ruleFaultKey(kind: 'ingress' | 'httproute', key: string): string {
  return `${kind}|${key}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

export function compileFaultTable(faults: readonly ActiveFault[], snapshot: Snapshot): FaultTable | undefined {
  if (faults.length === 0) return undefined;
  const nodes = new Map<string, NodeFaultSet>();
  const pods = new Map<string, PodFaultSet>();
  const ports = new Map<string, ActiveFault<PortFault>[]>();
  const rules = new Map<string, ActiveFault<RuleFault>[]>();
  const podIps = new Map(snapshot.pods.filter((p) => p.ip !== '').map((p) => [`${p.namespace}/${p.name}`, p.ip]));
  const services = new Map(snapshot.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  for (const fault of faults) {
    const { target, spec } = fault;
    const key = `${target.namespace}/${target.name}`;
    switch (target.kind) {
      case 'node': {
        const set = nodes.get(target.name) ?? {};
        const f = fault as ActiveFault<NodeFault>;
        if (spec.type === 'fail-probes' || spec.type === 'drain') nodes.set(target.name, { ...set, probes: set.probes ?? f });
        else if (spec.type === 'partition') nodes.set(target.name, { ...set, probes: f, partition: f });
        else if (spec.type === 'slow') nodes.set(target.name, { ...set, slow: fault as ActiveFault<Extract<NodeFault, { type: 'slow' }>> });
        break;
      }
      case 'pod': {
        const ip = podIps.get(key);
        if (ip === undefined) break;
        const set = pods.get(ip) ?? {};
        if (spec.type === 'hang') pods.set(ip, { ...set, hang: fault as ActiveFault<PodFault> });
        else if (spec.type === 'slow-start') pods.set(ip, { ...set, slowStart: fault as ActiveFault<Extract<PodFault, { type: 'slow-start' }>> });
        break;
      }
      case 'service':
      case 'frontend':
      case 'nodeport': {
        const service = services.get(key);
        if (service === undefined) break;
        const selector = (spec as PortFault).port;
        for (const port of service.ports) {
          if (selector !== undefined && port.name !== selector && port.port !== selector) continue;
          push(ports, portFaultKey(target.kind, `${key}:${port.name}`), fault as ActiveFault<PortFault>);
        }
        break;
      }
      case 'ingress':
      case 'httproute':
        push(rules, ruleFaultKey(target.kind, key), fault as ActiveFault<RuleFault>);
        break;
    }
  }
  return Object.freeze({ nodes, pods, ports, rules });
}
