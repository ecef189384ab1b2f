/**
 * `aks-emu explain flow`: which NetworkPolicy allows or drops a connection, without
 * sending it. The source and target are named as a user names them (pod/NAME, node/NAME,
 * svc/NAME, an address); a Service target is decided per endpoint, after kube-proxy's
 * DNAT, as a CNI decides it. Pure: reads the snapshot only.
 */
import { AksEmuError } from '../../errors/index.js';
import type { Snapshot } from '../snapshot.js';
import { evaluateFlow, type FlowDecision } from './evaluate.js';

export interface FlowQuery {
  /** pod/NAME, node/NAME or an IPv4 address. */
  readonly from: string;
  /** pod/NAME, svc/NAME or an IPv4 address. */
  readonly to: string;
  /** A port number or name: the Service port (svc/), the container port (pod/), else a number. */
  readonly port?: string;
  /** Where short names live; default `default`. */
  readonly namespace?: string;
  /** node/NAME that masquerades the flow (externalTrafficPolicy Cluster): the pod sees the node's address. */
  readonly via?: string;
}

export interface ExplainedFlow {
  /** What the connection reaches: `pod ns/name` or an address. */
  readonly target: string;
  readonly address: string;
  readonly port: number;
  readonly decision: FlowDecision;
}

export interface FlowExplanation {
  readonly source: { readonly name: string; readonly address: string; readonly seenAs: string };
  readonly flows: readonly ExplainedFlow[];
  /** Why nothing can be decided (a Service without endpoints), if so. */
  readonly note?: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function usage(message: string): AksEmuError {
  return new AksEmuError('AKS_EMU_USAGE', message);
}

function kindAndName(text: string, flag: string, kinds: readonly string[]): { kind: string; name: string } | undefined {
  if (IPV4.test(text)) return undefined;
  const m = /^([a-z]+)\/(.+)$/.exec(text);
  const kind =
    m?.[1] === 'po' || m?.[1] === 'pods'
      ? 'pod'
      : m?.[1] === 'no' || m?.[1] === 'nodes'
        ? 'node'
        : m?.[1] === 'service' || m?.[1] === 'services'
          ? 'svc'
          : m?.[1];
  if (!m || kind === undefined || !kinds.includes(kind))
    throw usage(`invalid value "${text}" for flag ${flag}: expected ${kinds.map((k) => `${k}/NAME`).join(', ')} or an IPv4 address`);
  return { kind, name: m[2]! };
}

function podOf(snapshot: Snapshot, name: string, namespace: string) {
  const pod = snapshot.pods.find((p) => p.name === name && p.namespace === namespace);
  if (!pod) throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${name}" not found in namespace "${namespace}"`);
  if (pod.ip === '' || pod.phase !== 'Running') throw new AksEmuError('AKS_EMU_NOT_FOUND', `pod "${name}" is ${pod.phase}: it has no IP`);
  return pod;
}

function nodeAddress(snapshot: Snapshot, name: string): string {
  const node = snapshot.nodes.find((n) => n.name === name);
  if (!node) throw new AksEmuError('AKS_EMU_NOT_FOUND', `nodes "${name}" not found`);
  return node.address;
}

function numericPort(port: string | undefined, what: string): number {
  if (port === undefined) throw usage(`the flag --port is required for ${what}`);
  const n = Number(port);
  if (!/^[0-9]+$/.test(port) || n < 1 || n > 65535) throw usage(`invalid value "${port}" for flag --port: must be a port number (1-65535) for ${what}`);
  return n;
}

export function explainFlow(snapshot: Snapshot, q: FlowQuery): FlowExplanation {
  const namespace = q.namespace ?? 'default';
  const from = kindAndName(q.from, '--from', ['pod', 'node']);
  const origin = from === undefined ? q.from : from.kind === 'pod' ? podOf(snapshot, from.name, namespace).ip : nodeAddress(snapshot, from.name);
  const via = q.via === undefined ? undefined : kindAndName(q.via, '--via', ['node']);
  const seenAs = via === undefined ? origin : nodeAddress(snapshot, via.name);
  const source = { name: from === undefined ? q.from : `${from.kind}/${from.name}`, address: origin, seenAs };
  const decide = (address: string, port: number) =>
    evaluateFlow(
      snapshot.networkPolicy,
      seenAs === origin ? { source: origin, destination: address, port } : { source: seenAs, origin, destination: address, port },
    );

  const to = kindAndName(q.to, '--to', ['pod', 'svc']);
  if (to === undefined) {
    const pod = snapshot.pods.find((p) => p.ip === q.to && p.phase === 'Running');
    const port = numericPort(q.port, q.to);
    return { source, flows: [{ target: pod ? `pod ${pod.namespace}/${pod.name}` : q.to, address: q.to, port, decision: decide(q.to, port) }] };
  }
  if (to.kind === 'pod') {
    const pod = podOf(snapshot, to.name, namespace);
    const named = pod.containers.flatMap((c) => c.ports).find((p) => p.name === q.port);
    const port = named?.containerPort ?? numericPort(q.port, `pod/${to.name} (or a name of its container ports)`);
    return { source, flows: [{ target: `pod ${pod.namespace}/${pod.name}`, address: pod.ip, port, decision: decide(pod.ip, port) }] };
  }
  const service = snapshot.services.find((s) => s.name === to.name && s.namespace === namespace);
  if (!service) throw new AksEmuError('AKS_EMU_NOT_FOUND', `services "${to.name}" not found in namespace "${namespace}"`);
  const servicePort = q.port === undefined ? service.ports[0] : service.ports.find((p) => p.name === q.port || String(p.port) === q.port);
  if (!servicePort) throw usage(`invalid value "${q.port ?? ''}" for flag --port: Service ${namespace}/${to.name} has no such port`);
  const published = snapshot.endpoints.find((e) => e.serviceKey === `${namespace}/${to.name}`)?.ports.find((p) => p.name === servicePort.name);
  const endpoints = published?.usable ?? [];
  const flows = endpoints.map((e) => ({
    target: e.podName === undefined ? `${e.ip}:${e.port}` : `pod ${e.podNamespace ?? namespace}/${e.podName}`,
    address: e.ip,
    port: e.port,
    decision: decide(e.ip, e.port),
  }));
  return {
    source,
    flows,
    ...(flows.length === 0 ? { note: `Service ${namespace}/${to.name} port ${servicePort.port} has no usable endpoint: kube-proxy rejects it` } : {}),
  };
}

export function formatFlowExplanation(e: FlowExplanation): string {
  const seen = e.source.seenAs === e.source.address ? '' : ` (seen as ${e.source.seenAs} after SNAT)`;
  const lines = [`from ${e.source.name} ${e.source.address}${seen}`];
  if (e.note !== undefined) lines.push(`  ${e.note}`);
  for (const f of e.flows) {
    const verdict = f.decision.verdict === 'allow' ? 'ALLOW' : 'DROP ';
    lines.push(`  ${verdict} to ${f.target} ${f.address}:${f.port}`, `        ${f.decision.reason}`);
  }
  return lines.join('\n');
}

/**
 * For a client that dials an address itself (`aks-emu curl` to a pod IP): the decision when
 * the address is not one the data plane forwards (a ClusterIP, an LB frontend, a node),
 * where kube-proxy or the LB decide on delivery. Undefined: the data plane decides.
 */
export function directFlowDecision(snapshot: Snapshot, source: string, destination: string, port: number): FlowDecision | undefined {
  if (snapshot.networkPolicy === undefined) return undefined;
  const forwarded =
    snapshot.services.some((s) => s.clusterIP === destination || s.loadBalancer?.ip === destination) || snapshot.nodes.some((n) => n.address === destination);
  return forwarded ? undefined : evaluateFlow(snapshot.networkPolicy, { source, destination, port });
}
