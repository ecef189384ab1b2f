/**
 * Azure LB distribution: which healthy backend node a new flow goes to. Azure hashes the
 * five-tuple by default, or the two-/three-tuple for session persistence
 * (Azure's distribution modes); round robin, which spreads visibly, is offered as well
 * and is the default (docs/architecture.md).
 */
import type { Distribution as DistributionMode } from '../../config/types.js';
import { hashInt, hashString } from './hash.js';
import { rendezvous, type RendezvousItem } from './rendezvous.js';
import { RoundRobin } from './round-robin.js';

export interface BackendNode extends RendezvousItem {
  readonly name: string;
  readonly address: string;
}

/** The client end of a new flow as the LB reads it from the packet; a Socket is one. */
export interface FlowSource {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

/** The frontend end of the flow, hashed once per rule. */
interface FrontendKey {
  readonly ipHash: number;
  readonly port: number;
}

export interface Distribution {
  pick(nodes: readonly BackendNode[], flow: FlowSource): BackendNode | undefined;
}

interface FlowKey {
  hash(flow: FlowSource, frontend: FrontendKey): number;
}

const TCP = 6;

/** Source IP, source port, destination IP, destination port, protocol. */
const fiveTuple = {
  hash: (flow, frontend) => hashInt(hashInt(hashInt(hashString(flow.remoteAddress ?? '', frontend.ipHash), flow.remotePort ?? 0), frontend.port), TCP),
} satisfies FlowKey;

/** SourceIPProtocol: source IP, destination IP, protocol. */
const sourceIPProtocol = {
  hash: (flow, frontend) => hashInt(hashString(flow.remoteAddress ?? '', frontend.ipHash), TCP),
} satisfies FlowKey;

/** SourceIP: source IP and destination IP. */
const sourceIP = {
  hash: (flow, frontend) => hashString(flow.remoteAddress ?? '', frontend.ipHash),
} satisfies FlowKey;

const FLOW_KEYS = {
  'five-tuple': fiveTuple,
  'source-ip-protocol': sourceIPProtocol,
  'source-ip': sourceIP,
} satisfies Record<Exclude<DistributionMode, 'round-robin'>, FlowKey>;

class HashDistribution implements Distribution {
  private readonly frontend: FrontendKey;

  constructor(
    private readonly flowKey: FlowKey,
    frontendIP: string,
    frontendPort: number,
  ) {
    this.frontend = { ipHash: hashString(frontendIP), port: frontendPort };
  }

  pick(nodes: readonly BackendNode[], flow: FlowSource): BackendNode | undefined {
    return rendezvous(nodes, this.flowKey.hash(flow, this.frontend));
  }
}

class RoundRobinDistribution implements Distribution {
  private readonly roundRobin = new RoundRobin<BackendNode>();

  pick(nodes: readonly BackendNode[]): BackendNode | undefined {
    return this.roundRobin.select(nodes);
  }
}

export function createDistribution(mode: DistributionMode, frontendIP: string, frontendPort: number): Distribution {
  if (mode === 'round-robin') return new RoundRobinDistribution();
  return new HashDistribution(FLOW_KEYS[mode], frontendIP, frontendPort);
}

export function backendNode(name: string, address: string): BackendNode {
  return { name, address, hash: hashString(name) };
}
