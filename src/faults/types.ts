/**
 * The fault model: what a fault does (a discriminated union on `type`), where it acts (the
 * hop's own identity, KIND/NS/NAME) and for how long. Plain, JSON-serialisable data; the
 * runtime keeps the registry (src/runtime/fault-registry.ts) and the data plane reads a
 * frozen table compiled from it (compile.ts).
 */

/** Hops a fault can name, as `aks-emu fault add --target KIND/NS/NAME` spells them. */
export const TARGET_KINDS = ['node', 'pod', 'service', 'frontend', 'nodeport', 'ingress', 'httproute'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** One hop: a node (no namespace), a pod, a Service (as a Service port, LB frontend or NodePort), an Ingress or an HTTPRoute. */
export interface FaultTarget {
  readonly kind: TargetKind;
  /** '' for nodes. */
  readonly namespace: string;
  readonly name: string;
}

/** Toxiproxy's stream direction: upstream is client → server, downstream server → client. */
export type Direction = 'upstream' | 'downstream' | 'both';

/** A Service port by name or number; undefined: every port of the Service. */
export type PortSelector = string | number | undefined;

interface L4Common {
  /** Fraction of new connections the fault takes (Toxiproxy's toxicity), 0..1. */
  readonly fraction: number;
  readonly port?: string | number;
}

export type NodeFault =
  /** The node's VM dies: listeners and pods go (the existing `aks-emu node stop`). */
  | { readonly type: 'stop' }
  /** Every LB probe to the node fails; its listeners stay up. */
  | { readonly type: 'fail-probes' }
  /** Probes fail so the LB takes the node out; established flows are kept. */
  | { readonly type: 'drain' }
  /** The LB cannot reach the node: probes time out and new flows the LB sends there are never answered. */
  | { readonly type: 'partition' }
  /** Latency on every flow the node forwards. */
  | { readonly type: 'slow'; readonly delayMs: number; readonly jitterMs: number };

export type PodFault =
  /** Readiness forced false (the existing `aks-emu pod unready`). */
  | { readonly type: 'unready' }
  /** Connections reset, the pod restarts after restartAfterMs. */
  | { readonly type: 'crash'; readonly restartAfterMs: number }
  /** New connections wait delayMs, fading linearly to nothing over windowMs from the fault's start. */
  | { readonly type: 'slow-start'; readonly delayMs: number; readonly windowMs: number }
  /** Accepts connections and never answers. */
  | { readonly type: 'hang' };

export type PortFault =
  | (L4Common & { readonly type: 'latency'; readonly delayMs: number; readonly jitterMs: number; readonly direction: Direction })
  /** Toxiproxy's bandwidth: rate in KB/s (1 KB = 1000 bytes). */
  | (L4Common & { readonly type: 'bandwidth'; readonly rateKBps: number; readonly direction: Direction })
  /** RST on a fraction of new connections. */
  | (L4Common & { readonly type: 'reset' })
  /** Accepts and never answers (Toxiproxy's timeout 0). */
  | (L4Common & { readonly type: 'blackhole' })
  /** Toxiproxy's limit_data: the connection closes once `bytes` have passed in the direction. */
  | (L4Common & { readonly type: 'close-after'; readonly bytes: number; readonly direction: Direction })
  /** The LB idle timeout for the target's flows, with or without TCP reset. */
  | (L4Common & { readonly type: 'idle-timeout'; readonly timeoutMs: number; readonly tcpReset: boolean })
  /** Azure SNAT port exhaustion: one client's new flows beyond `ports` open ones fail. */
  | (L4Common & { readonly type: 'snat-exhaustion'; readonly ports: number });

interface RuleCommon {
  readonly fraction: number;
  /** One rule of the Ingress or HTTPRoute by its path; undefined: every rule. */
  readonly path?: string;
}

export type RuleFault =
  /** Answer `code` instead of proxying, for a fraction of requests or for the first `first`. */
  | (RuleCommon & { readonly type: 'status'; readonly code: number; readonly first?: number })
  /** Hold the request delayMs before proxying it. */
  | (RuleCommon & { readonly type: 'delay'; readonly delayMs: number })
  /** Reset the client connection instead of answering. */
  | (RuleCommon & { readonly type: 'abort' })
  /** The response body at rateKBps. */
  | (RuleCommon & { readonly type: 'slow-body'; readonly rateKBps: number });

export type FaultSpec = NodeFault | PodFault | PortFault | RuleFault;
export type FaultType = FaultSpec['type'];

export const NODE_FAULTS = ['stop', 'fail-probes', 'drain', 'partition', 'slow'] as const satisfies readonly NodeFault['type'][];
export const POD_FAULTS = ['unready', 'crash', 'slow-start', 'hang'] as const satisfies readonly PodFault['type'][];
export const PORT_FAULTS = [
  'latency',
  'bandwidth',
  'reset',
  'blackhole',
  'close-after',
  'idle-timeout',
  'snat-exhaustion',
] as const satisfies readonly PortFault['type'][];
export const RULE_FAULTS = ['status', 'delay', 'abort', 'slow-body'] as const satisfies readonly RuleFault['type'][];

/** Which fault types each target kind takes. */
export const FAULTS_FOR: Readonly<Record<TargetKind, readonly FaultType[]>> = {
  node: NODE_FAULTS,
  pod: POD_FAULTS,
  service: PORT_FAULTS,
  frontend: PORT_FAULTS,
  nodeport: PORT_FAULTS,
  ingress: RULE_FAULTS,
  httproute: RULE_FAULTS,
};

export const FAULT_TYPES: readonly FaultType[] = [...NODE_FAULTS, ...POD_FAULTS, ...PORT_FAULTS, ...RULE_FAULTS];

/** A validated fault, before the registry gives it an id. */
export interface FaultRequest {
  readonly spec: FaultSpec;
  readonly target: FaultTarget;
  /** The params as the API shows them back: durations as `200ms`, fractions as numbers. */
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** How long the fault lasts; undefined: until removed. */
  readonly forMs?: number;
}

/** A fault as the API and the library show it. */
export interface Fault {
  readonly id: string;
  readonly type: FaultType;
  /** `KIND/NS/NAME` (`node/NAME` for nodes). */
  readonly target: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly expiresAt?: string;
  /** How often the fault took effect (a connection reset, a probe failed, a request answered 503). */
  readonly fired: number;
}

export interface FaultList {
  readonly kind: 'FaultList';
  readonly items: readonly Fault[];
}

export function formatTarget(target: FaultTarget): string {
  return target.kind === 'node' ? `node/${target.name}` : `${target.kind}/${target.namespace}/${target.name}`;
}
