/**
 * NetworkPolicy at the data plane's hops: the decision of the snapshot's compiled table
 * (src/cluster/netpol) for a connection about to be delivered to a pod. The gate decides
 * nothing of its own. A snapshot without policies has no gate, so a hook costs one
 * `undefined` check then.
 *
 * A denied connection is dropped as a CNI drops it: the SYN goes unanswered. Where the
 * client's socket is already accepted (the LB, a NodePort, a ClusterIP) it is held
 * silent, as kube-proxy's DROP holds it (held-connections.ts); a dialler that has not
 * connected yet (the ingress controller) sees its connect time out.
 */
import { evaluateFlow, type Flow, type FlowDecision } from '../cluster/netpol/evaluate.js';
import type { NetworkPolicyTable } from '../cluster/netpol/table.js';
import type { Snapshot } from '../cluster/snapshot.js';

export class NetpolGate {
  readonly #nodes: ReadonlySet<string>;

  constructor(readonly table: NetworkPolicyTable) {
    this.#nodes = new Set(table.nodeAddresses);
  }

  /** Whether the address is a node's (its own traffic, or a flow kube-proxy masqueraded). */
  isNode(address: string): boolean {
    return this.#nodes.has(address);
  }

  decide(flow: Flow): FlowDecision {
    return evaluateFlow(this.table, flow);
  }

  /** Whether a TCP flow is dropped; `origin` is where it started, if a masquerade changed its source. */
  drops(source: string, destination: string, port: number, origin: string = source): boolean {
    return this.decide(origin === source ? { source, destination, port } : { source, destination, port, origin }).verdict === 'drop';
  }
}

const gates = new WeakMap<NetworkPolicyTable, NetpolGate>();

/** The gate of a snapshot's policies (one per table), or undefined when it has none. */
export function netpolGate(snapshot: Pick<Snapshot, 'networkPolicy'> | undefined): NetpolGate | undefined {
  const table = snapshot?.networkPolicy;
  if (table === undefined) return undefined;
  let gate = gates.get(table);
  if (gate === undefined) gates.set(table, (gate = new NetpolGate(table)));
  return gate;
}

/** The error a dialler gets when its SYN goes unanswered for its whole connect timeout. */
export function connectTimeoutError(address: string, timeoutMs: number): Error {
  return Object.assign(new Error(`connect ETIMEDOUT ${address} (dropped by NetworkPolicy after ${timeoutMs} ms)`), { code: 'ETIMEDOUT' });
}
