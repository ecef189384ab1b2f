/**
 * The typed form of a fault for the library (`cluster.addFault(...)`), the same JSON the
 * API takes. Durations are Go-style strings (`200ms`, `1.5s`) or milliseconds.
 */
import type { Direction, FaultType } from './types.js';

export type Duration = string | number;

interface PortParams {
  /** Fraction of new connections taken, 0..1 (Toxiproxy's toxicity); default 1. */
  fraction?: number;
  /** One Service port by name or number; default every port. */
  port?: string | number;
}

interface RuleParams {
  /** Fraction of requests taken, 0..1; default 1. */
  fraction?: number;
  /** One rule by its path (as written in the Ingress or HTTPRoute); default every rule. */
  path?: string;
}

export interface FaultParamsByType {
  stop: Record<string, never>;
  'fail-probes': Record<string, never>;
  drain: Record<string, never>;
  partition: Record<string, never>;
  slow: { delay: Duration; jitter?: Duration };
  unready: Record<string, never>;
  crash: { restartAfter?: Duration };
  'slow-start': { delay: Duration; window?: Duration };
  hang: Record<string, never>;
  latency: PortParams & { delay: Duration; jitter?: Duration; direction?: Direction };
  /** rate in KB/s, as Toxiproxy's bandwidth toxic. */
  bandwidth: PortParams & { rate: number; direction?: Direction };
  reset: PortParams;
  blackhole: PortParams;
  'close-after': PortParams & { bytes: number; direction?: Direction };
  'idle-timeout': PortParams & { timeout: Duration; tcpReset?: boolean };
  'snat-exhaustion': PortParams & { ports: number };
  status: RuleParams & { code: number; first?: number };
  delay: RuleParams & { delay: Duration };
  abort: RuleParams;
  /** rate in KB/s. */
  'slow-body': RuleParams & { rate: number };
}

/** `target`: `node/NAME`, or `KIND/NAMESPACE/NAME` with KIND pod, service, frontend, nodeport, ingress or httproute. */
export type FaultInput = {
  [T in FaultType]: { type: T; target: string; params?: FaultParamsByType[T]; for?: Duration };
}[FaultType];
