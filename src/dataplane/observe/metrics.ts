/**
 * /metrics: the data plane's live counters (stats.ts), the LB probes, the L7 routes
 * (http.ts) and the faults, written in Prometheus' text format. Names follow Prometheus'
 * conventions: an `aks_emu_` prefix, base units (seconds, bytes), `_total` on counters,
 * one family per thing measured with the hop's identity in labels. Nothing here runs per
 * connection: the text is made from the counters when /metrics is read.
 */
import type { Snapshot } from '../../cluster/snapshot.js';
import type { ProbeAnswerCounts, ProbeStatus, ProbeTransition } from '../lb/prober.js';
import type { Counters, FlowTotals, GlobalCounters } from '../stats.js';
import { Exposition, type Labels } from './exposition.js';
import type { HttpCounters } from './http-counters.js';

/** How often each probe moved each node up or down since start. */
export class ProbeTransitions {
  readonly #counts = new Map<string, { readonly labels: Labels; count: number }>();

  record(t: ProbeTransition): void {
    const key = `${t.loadBalancer}|${t.probe}|${t.node}|${t.state}`;
    const entry = this.#counts.get(key);
    if (entry) entry.count++;
    else this.#counts.set(key, { labels: { load_balancer: t.loadBalancer, probe: t.probe, node: t.node, state: t.state }, count: 1 });
  }

  entries(): Iterable<{ readonly labels: Labels; readonly count: number }> {
    return this.#counts.values();
  }
}

/** A fault as the fault registry lists it: how often it took effect so far. */
export interface FaultFired {
  readonly id: string;
  readonly type: string;
  /** `KIND/NS/NAME` (nodes: `node/NAME`). */
  readonly target: string;
  readonly fired: number;
}

export interface MetricSources {
  readonly snapshot: Snapshot | undefined;
  readonly counters: Counters;
  readonly global: GlobalCounters;
  readonly probes: readonly ProbeStatus[];
  readonly probeTransitions: ProbeTransitions;
  /** How the prober's attempts were answered: in process or by a socket (lb/probe-answer.ts). */
  readonly probeAnswers?: ProbeAnswerCounts;
  readonly http?: HttpCounters;
  /** The fault registry's faults; undefined where none is wired. */
  readonly faults?: readonly FaultFired[];
}

/** Open connections, bytes both ways and duration: what every hop learns when a flow closes (flow.ts). */
function flowFamilies(out: Exposition, prefix: string, subject: string, labels: Labels, totals: FlowTotals): void {
  out.gauge(`${prefix}_open_connections`, `Connections through ${subject} that are still open.`).set(labels, totals.active);
  out
    .counter(`${prefix}_receive_bytes_total`, `Bytes received from the clients of ${subject}, counted when each connection closes.`)
    .set(labels, totals.receivedBytes);
  out.counter(`${prefix}_transmit_bytes_total`, `Bytes sent to the clients of ${subject}, counted when each connection closes.`).set(labels, totals.sentBytes);
  out.histogram(`${prefix}_connection_duration_seconds`, `How long connections through ${subject} stayed open.`).observe(labels, totals.duration);
}

function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function renderMetrics(sources: MetricSources): string {
  const out = new Exposition();
  const live = sources.counters.live();
  const rules = new Map<string, { frontend: string; service: string }>();
  for (const lb of sources.snapshot?.loadBalancers ?? []) {
    for (const r of lb.rules)
      rules.set(`${lb.name}/${r.name}`, { frontend: `${r.frontendIP}:${r.frontendPort}`, service: `${r.serviceKey}:${r.servicePortName}` });
  }

  for (const node of sources.snapshot?.nodes ?? []) {
    out
      .gauge('aks_emu_node_running', 'Whether the node runs (1) or is stopped (0): its NodePorts, kube-proxy and pods.')
      .set({ node: node.name }, node.running ? 1 : 0);
  }

  for (const l of live.listeners) {
    const labels = { role: l.role, address: l.address, port: l.port };
    out
      .counter(
        'aks_emu_listener_connections_total',
        'Connections accepted on an address:port (role lb: an LB frontend, nodeport: a NodePort on one node, clusterip: a ClusterIP port), LB health probes excluded.',
      )
      .set(labels, l.connections);
    flowFamilies(out, 'aks_emu_listener', 'an address:port', labels, l);
  }

  for (const r of live.rules) {
    const where = rules.get(`${r.loadBalancer}/${r.rule}`);
    const labels = { load_balancer: r.loadBalancer, rule: r.rule, frontend: where?.frontend, service: where?.service };
    out.counter('aks_emu_lb_connections_total', "New flows an LB rule's frontend accepted, whatever happened to them next.").set(labels, r.connections);
    flowFamilies(out, 'aks_emu_lb', 'an LB rule', labels, r);
    for (const [node, picks] of r.nodePicks) {
      out
        .counter('aks_emu_lb_backend_picks_total', 'Flows an LB rule sent to each backend node (the distribution mode at work).')
        .set({ ...labels, node }, picks);
    }
    const rejected = out.counter('aks_emu_lb_rejected_connections_total', 'Flows an LB rule reset, by reason.');
    rejected.set({ ...labels, reason: 'source_range' }, r.rejectedBySourceRange);
    rejected.set({ ...labels, reason: 'no_healthy_backend' }, r.noHealthyBackend);
    rejected.set({ ...labels, reason: 'backend_unreachable' }, r.backendUnreachable);
    out
      .counter(
        'aks_emu_lb_in_cluster_connections_total',
        'Flows to an LB frontend from pods or nodes, which kube-proxy on their own node took (the Azure LB never saw them).',
      )
      .set(labels, r.inCluster);
    out
      .counter('aks_emu_lb_idle_timeouts_total', 'Flows an LB rule expired at its idle timeout (reset with TCP reset, else dropped silently).')
      .set(labels, r.idleTimeouts);
  }
  out
    .counter('aks_emu_lb_discarded_bytes_total', 'Bytes read and thrown away by flows the LB dropped silently at idle timeout.')
    .set({}, sources.global.discardedBytes);

  for (const p of sources.probes) {
    out
      .gauge('aks_emu_lb_probe_up', 'Whether an LB health probe counts a node as up (1) or down (0).')
      .set({ load_balancer: p.loadBalancer, probe: p.probe, node: p.node }, p.state === 'up' ? 1 : 0);
  }
  const transitions = out.counter('aks_emu_lb_probe_transitions_total', 'How often an LB health probe moved a node up or down (state: the new state).');
  for (const t of sources.probeTransitions.entries()) transitions.set(t.labels, t.count);
  if (sources.probeAnswers !== undefined) {
    const attempts = out.counter(
      'aks_emu_lb_probe_attempts_total',
      'LB health probe attempts by how they were answered (answered: in_process when this process decided the outcome from its own tables, socket when a probe connection was opened).',
    );
    attempts.set({ answered: 'in_process' }, sources.probeAnswers.inProcess);
    attempts.set({ answered: 'socket' }, sources.probeAnswers.socket);
  }

  for (const s of live.servicePorts) {
    const { namespace, name } = splitKey(s.service);
    const labels = { node: s.node, namespace, service: name, port: s.port };
    out
      .counter('aks_emu_kube_proxy_connections_total', 'Connections kube-proxy on a node took for a Service port (from a NodePort, the LB, or a ClusterIP).')
      .set(labels, s.connections);
    flowFamilies(out, 'aks_emu_kube_proxy', 'a Service port on a node (kube-proxy)', labels, s);
    out
      .histogram(
        'aks_emu_kube_proxy_endpoint_connect_duration_seconds',
        "From kube-proxy's decision to a connected endpoint (a hand-over to an in-process pod counts its decision time only).",
      )
      .observe(labels, s.connectDuration);
    const rejected = out.counter(
      'aks_emu_kube_proxy_rejected_connections_total',
      'Connections kube-proxy reset, by reason (no_endpoints: REJECT, connect_failed: every dial attempt failed).',
    );
    rejected.set({ ...labels, reason: 'no_endpoints' }, s.refused);
    rejected.set({ ...labels, reason: 'connect_failed' }, s.connectFailures);
    const dropped = out.counter(
      'aks_emu_kube_proxy_dropped_connections_total',
      'Connections dropped silently on their way to a pod, by reason (no_local_endpoint: Local traffic policy, no endpoint on the node; network_policy: a NetworkPolicy).',
    );
    dropped.set({ ...labels, reason: 'no_local_endpoint' }, s.dropped - s.policyDrops);
    dropped.set({ ...labels, reason: 'network_policy' }, s.policyDrops);
    out.counter('aks_emu_kube_proxy_dial_retries_total', 'Dials to an endpoint that failed and were retried on another one.').set(labels, s.retries);
  }
  out
    .counter(
      'aks_emu_clusterip_rejected_connections_total',
      'Connections to a ClusterIP reset, by reason (outside_cluster: the client is neither a pod nor a node).',
    )
    .set({ reason: 'outside_cluster' }, sources.global.rejectedOutsideCluster);

  for (const e of live.endpoints) {
    const { namespace, name } = splitKey(e.service);
    const labels = { namespace, service: name, port: e.port, endpoint: e.endpoint, pod: e.pod === undefined ? undefined : splitKey(e.pod).name, node: e.node };
    out
      .counter(
        'aks_emu_endpoint_connections_total',
        'Connections kube-proxy sent to an endpoint, over every node (each dial attempt counts): the distribution over pods.',
      )
      .set(labels, e.connections);
    flowFamilies(out, 'aks_emu_endpoint', 'an endpoint', labels, e);
    out.counter('aks_emu_endpoint_connect_failures_total', 'Dial attempts to an endpoint that failed.').set(labels, e.connectFailures);
  }

  sources.http?.render(out);

  if (sources.faults !== undefined) {
    out.gauge('aks_emu_faults_active', 'Faults in effect now.').set({}, sources.faults.length);
    for (const f of sources.faults) {
      out.counter('aks_emu_fault_fired_total', 'How often a fault took effect (its `fired` count).').set({ id: f.id, type: f.type, target: f.target }, f.fired);
    }
  }
  return out.text();
}
