/**
 * The dashboard's picture of the cluster: a layered graph drawn from the snapshot (LB
 * frontends → rules → nodes → Services → pods, and the ingress and Gateway API routes the
 * controller pods serve), with each hop's health, the faults acting on it and its traffic
 * rate, computed from the data plane's counters between two samples. Pure: the caller
 * passes the time of the sample and the previous sample.
 */
import type { PodInfo, Snapshot } from '../../cluster/snapshot.js';
import type { EndpointStats, LoadBalancingRuleStats, ServicePortStats } from '../../dataplane/stats.js';
import type { ProbeStatusLike } from '../load-balancer-view.js';

/** A fault as the fault API lists it (only the fields the dashboard shows). */
export interface FaultView {
  readonly id: string;
  readonly type: string;
  /** `KIND/NS/NAME`, `node/NAME` for nodes. */
  readonly target: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly expiresAt?: string;
  readonly fired: number;
}

/** Columns, left to right, in the order traffic from outside crosses them. */
export const COLUMNS = ['frontend', 'rule', 'node', 'service', 'pod', 'route'] as const;
export type ColumnKind = (typeof COLUMNS)[number];

/**
 * ok: serving; down: the hop takes no traffic (probe down, node stopped, pod not ready, no
 * endpoints); pending: not there yet (no frontend IP, pod unscheduled); fault: an active
 * fault acts on it; error: it failed connections since the last sample.
 */
export type HopStatus = 'ok' | 'down' | 'pending' | 'fault' | 'error';

export interface GraphNode {
  /** `KIND:KEY`, stable across samples. */
  readonly id: string;
  readonly kind: ColumnKind;
  /** The box's first line (a name, an address) and second line (its namespace, Service or address). */
  readonly label: string;
  readonly sublabel: string;
  readonly detail: string;
  readonly status: HopStatus;
  /** What `--target` names this hop by for the fault API, where faults can act on it. */
  readonly faultTarget?: string;
  /** Ids of the active faults acting on it. */
  readonly faults: readonly string[];
}

export interface GraphEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly status: HopStatus;
  /** Connections (requests, on the edges to and from a route) since start over this edge; undefined where no counter measures it. */
  readonly total?: number;
  /** Connections (requests) per second since the previous sample. */
  readonly rate?: number;
  /** Failed connections since start and per second (resets, drops, refusals; 5xx answers and abort faults on route edges). */
  readonly errors?: number;
  readonly errorRate?: number;
}

export interface DashboardState {
  readonly kind: 'DashboardState';
  readonly snapshotVersion: number;
  readonly generatedAt: string;
  /** Milliseconds since the previous sample (0 on the first: rates are 0). */
  readonly intervalMs: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly faults: readonly FaultView[];
  /** Which fault types each target kind takes (what the page offers). */
  readonly faultTypes: Readonly<Record<string, readonly string[]>>;
  /** False where the runtime has no fault API (the page hides the controls). */
  readonly faultsAvailable: boolean;
  readonly activeConnections: number;
}

/** The counters the dashboard reads (a part of `DataPlaneStats`). */
export interface DashboardStats {
  readonly rules?: readonly Pick<
    LoadBalancingRuleStats,
    'loadBalancer' | 'rule' | 'connections' | 'nodePicks' | 'rejectedBySourceRange' | 'noHealthyBackend' | 'backendUnreachable'
  >[];
  readonly servicePorts?: readonly Pick<
    ServicePortStats,
    'node' | 'service' | 'port' | 'connections' | 'endpointPicks' | 'dropped' | 'refused' | 'connectFailures'
  >[];
  /** Per endpoint over all nodes: dials to it that failed colour its Service → pod edge. */
  readonly endpoints?: readonly Pick<EndpointStats, 'service' | 'endpoint' | 'connectFailures'>[];
  readonly activeConnections?: number;
}

/**
 * One row of the L7 pods' per-route counters (the ones /metrics shows as
 * aks_emu_http_requests_total): requests a route answered for one backend Service.
 */
export interface RouteRequests {
  /** `Ingress` or `HTTPRoute` (others, and the controller's own answers, are not drawn). */
  readonly kind: string;
  readonly namespace: string;
  readonly route: string;
  /** `namespace/name` of the backend Service; '' when the request never chose one. */
  readonly service: string;
  /** `namespace/name` of the controller or Gateway pod that answered. */
  readonly pod: string;
  readonly requests: number;
  /** Answered 5xx, or reset by an abort fault. */
  readonly errors: number;
}

export interface DashboardInput {
  readonly snapshot: Snapshot;
  readonly probes: readonly ProbeStatusLike[];
  /** The data plane's counters (`AdminBackend.stats()`); fields it lacks count as absent. */
  readonly stats: DashboardStats | undefined;
  /** The L7 route counters; undefined where the runtime has none (route edges carry no rate). */
  readonly routeRequests?: readonly RouteRequests[] | undefined;
  /** undefined: the runtime has no fault API. */
  readonly faults: readonly FaultView[] | undefined;
  readonly faultTypes: Readonly<Record<string, readonly string[]>>;
  /** Milliseconds, the caller's clock. */
  readonly now: number;
}

/** Counter totals of one sample, by edge id, to compute the next sample's rates. */
export interface Sample {
  readonly at: number;
  readonly totals: ReadonlyMap<string, { readonly total: number; readonly errors: number }>;
}

interface EdgeDraft {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  down: boolean;
  /** Not known yet: the probe has not answered numberOfProbes times alike since the node (re)started. */
  pending?: boolean;
  total?: number;
  errors?: number;
}

const id = {
  frontend: (lb: string, name: string) => `frontend:${lb}/${name}`,
  rule: (lb: string, name: string) => `rule:${lb}/${name}`,
  node: (name: string) => `node:${name}`,
  service: (key: string) => `service:${key}`,
  pod: (key: string) => `pod:${key}`,
  route: (kind: 'ingress' | 'httproute', key: string) => `route:${kind}/${key}`,
};

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

function podStatus(pod: PodInfo, nodeRunning: boolean): HopStatus {
  if (pod.phase === 'Pending') return 'pending';
  return pod.ready && nodeRunning ? 'ok' : 'down';
}

/** The routes the controllers serve: Ingresses (by object) and HTTPRoutes, with the Services they send to. */
function routes(snapshot: Snapshot): { key: string; kind: 'ingress' | 'httproute'; hosts: Set<string>; services: Set<string>; pods: string[] }[] {
  const found = new Map<string, { key: string; kind: 'ingress' | 'httproute'; hosts: Set<string>; services: Set<string>; pods: string[] }>();
  const entry = (kind: 'ingress' | 'httproute', key: string, pods: string[]) => {
    const k = `${kind}/${key}`;
    let e = found.get(k);
    if (!e) found.set(k, (e = { key, kind, hosts: new Set(), services: new Set(), pods }));
    return e;
  };
  const ingressPods = snapshot.pods.filter((p) => p.runtime.kind === 'ingress-controller').map(podKey);
  const config = snapshot.ingress?.config;
  if (config) {
    const upstreams = new Map(config.upstreams.map((u) => [u.name, `${u.service.namespace}/${u.service.name}`]));
    for (const server of config.servers) {
      for (const loc of server.locations) {
        if (loc.ingress === undefined || loc.isDefaultBackend) continue;
        const e = entry('ingress', loc.ingress, ingressPods);
        e.hosts.add(`${server.hostname === '_' ? '*' : server.hostname}${loc.path}`);
        const svc = loc.upstream === undefined ? undefined : upstreams.get(loc.upstream);
        if (svc !== undefined) e.services.add(svc);
      }
    }
  }
  for (const gw of snapshot.gateway?.gateways ?? []) {
    const gwKey = `${gw.namespace}/${gw.name}`;
    const gwPods = snapshot.pods.filter((p) => p.runtime.kind === 'gateway' && p.runtime.gateway === gwKey).map(podKey);
    for (const table of gw.tables) {
      const upstreams = new Map(table.config.upstreams.map((u) => [u.name, `${u.service.namespace}/${u.service.name}`]));
      for (const server of table.config.servers) {
        for (const rule of server.routes ?? []) {
          // `HTTPRoute namespace/name` (or GRPCRoute): faults take HTTPRoutes.
          const [routeKind, key] = rule.route.split(' ');
          if (routeKind !== 'HTTPRoute' || key === undefined) continue;
          const e = entry('httproute', key, gwPods);
          e.hosts.add(`${server.hostname === '_' ? '*' : server.hostname}:${table.port}`);
          for (const b of rule.backends) {
            const svc = b.upstream === undefined ? undefined : upstreams.get(b.upstream);
            if (svc !== undefined) e.services.add(svc);
          }
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => `${a.kind}/${a.key}`.localeCompare(`${b.kind}/${b.key}`));
}

/** The graph for one sample, and the totals the next sample's rates start from. */
export function dashboardState(input: DashboardInput, previous: Sample | undefined): { state: DashboardState; sample: Sample } {
  const { snapshot, stats } = input;
  const faults = input.faults ?? [];
  const faultsOn = new Map<string, string[]>();
  for (const f of faults) {
    const list = faultsOn.get(f.target) ?? [];
    list.push(f.id);
    faultsOn.set(f.target, list);
  }
  const nodes: GraphNode[] = [];
  const edges: EdgeDraft[] = [];
  const addNode = (n: Omit<GraphNode, 'faults'>) => {
    const ids = n.faultTarget === undefined ? [] : (faultsOn.get(n.faultTarget) ?? []);
    nodes.push({ ...n, faults: ids, status: ids.length > 0 ? 'fault' : n.status });
  };

  const ruleStats = new Map((stats?.rules ?? []).map((r) => [`${r.loadBalancer}/${r.rule}`, r]));
  const portStats = stats?.servicePorts ?? [];
  const nodeRunning = new Map(snapshot.nodes.map((n) => [n.name, n.running]));
  const probeState = new Map(input.probes.map((p) => [`${p.loadBalancer}/${p.probe}/${p.node}`, p]));
  const serviceByKey = new Map(snapshot.services.map((s) => [`${s.namespace}/${s.name}`, s]));

  for (const lb of snapshot.loadBalancers) {
    for (const f of lb.frontends) {
      addNode({
        id: id.frontend(lb.name, f.name),
        kind: 'frontend',
        label: f.ip,
        sublabel: f.serviceKey,
        detail: `${lb.internal ? 'internal' : 'public'} frontend ${f.name} of ${lb.name}, Service ${f.serviceKey}`,
        status: 'ok',
        faultTarget: `frontend/${f.serviceKey}`,
      });
    }
    for (const r of lb.rules) {
      const counters = ruleStats.get(`${lb.name}/${r.name}`);
      addNode({
        id: id.rule(lb.name, r.name),
        kind: 'rule',
        label: `${r.protocol} ${r.frontendPort} → ${r.backendPort}`,
        sublabel: r.serviceKey,
        detail: `rule ${r.name}, probe ${r.probeName ?? 'none'}, Service ${r.serviceKey} port ${r.servicePortName || r.frontendPort}`,
        status: 'ok',
        // A rule's backend port is the Service's NodePort (floating IP off).
        ...(r.enableFloatingIP ? {} : { faultTarget: `nodeport/${r.serviceKey}` }),
      });
      edges.push({
        id: `${id.frontend(lb.name, r.frontendName)}>${id.rule(lb.name, r.name)}`,
        from: id.frontend(lb.name, r.frontendName),
        to: id.rule(lb.name, r.name),
        down: false,
        ...(counters ? { total: counters.connections, errors: counters.rejectedBySourceRange + counters.noHealthyBackend + counters.backendUnreachable } : {}),
      });
      for (const node of lb.backendPool) {
        const probe = r.probeName === undefined ? undefined : probeState.get(`${lb.name}/${r.probeName}/${node}`);
        edges.push({
          id: `${id.rule(lb.name, r.name)}>${id.node(node)}`,
          from: id.rule(lb.name, r.name),
          to: id.node(node),
          // No probe (`port_N_no_probe_rule`): the LB counts every node as up.
          down: (r.probeName !== undefined && probe?.state !== 'up') || nodeRunning.get(node) !== true,
          pending: probe?.settled === false,
          ...(counters ? { total: counters.nodePicks[node] ?? 0 } : {}),
        });
      }
    }
  }

  for (const n of snapshot.nodes) {
    addNode({
      id: id.node(n.name),
      kind: 'node',
      label: n.name,
      sublabel: n.address,
      detail: `node ${n.address}, ${n.running ? 'running' : 'stopped'}, ${n.ready ? 'Ready' : 'NotReady'}${n.unschedulable ? ', SchedulingDisabled' : ''}`,
      status: n.running ? 'ok' : 'down',
      faultTarget: `node/${n.name}`,
    });
  }

  // node → Service: where the LB or a NodePort brings traffic in, or where kube-proxy on the node counted any.
  const nodeService = new Map<string, { node: string; service: string; total: number; errors: number }>();
  for (const c of portStats) {
    const key = `${c.node}|${c.service}`;
    const e = nodeService.get(key) ?? { node: c.node, service: c.service, total: 0, errors: 0 };
    e.total += c.connections;
    e.errors += c.dropped + c.refused + c.connectFailures;
    nodeService.set(key, e);
  }
  const endpointPicks = new Map<string, number>();
  for (const c of portStats) {
    for (const [endpoint, picks] of Object.entries(c.endpointPicks)) {
      const key = `${c.service}|${endpoint}`;
      endpointPicks.set(key, (endpointPicks.get(key) ?? 0) + picks);
    }
  }
  const endpointFailures = stats?.endpoints === undefined ? undefined : new Map<string, number>();
  for (const c of stats?.endpoints ?? []) {
    const k = `${c.service}|${c.endpoint}`;
    endpointFailures!.set(k, (endpointFailures!.get(k) ?? 0) + c.connectFailures);
  }
  const endpointsByService = new Map(snapshot.endpoints.map((e) => [e.serviceKey, e]));
  for (const s of snapshot.services) {
    const key = `${s.namespace}/${s.name}`;
    const eps = endpointsByService.get(key);
    const usable = eps ? sum(eps.ports.map((p) => p.usable.length)) : 0;
    const external = s.type === 'LoadBalancer' || s.type === 'NodePort';
    addNode({
      id: id.service(key),
      kind: 'service',
      label: s.name,
      sublabel: `${s.namespace} · ${s.type}`,
      detail: `${s.type} ${s.clusterIP || s.externalName || ''} ports ${s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(', ')}`,
      status: s.type === 'ExternalName' || usable > 0 || s.selector === undefined ? 'ok' : 'down',
      faultTarget: `service/${key}`,
    });
    for (const n of snapshot.nodes) {
      const counted = nodeService.get(`${n.name}|${key}`);
      if (!external && (counted === undefined || counted.total === 0)) continue;
      edges.push({
        id: `${id.node(n.name)}>${id.service(key)}`,
        from: id.node(n.name),
        to: id.service(key),
        down: !n.running,
        total: counted?.total ?? 0,
        errors: counted?.errors ?? 0,
      });
    }
    // Service → pod: one edge per pod, whatever its ports (a Service's ports share pods).
    const toPods = new Map<string, EdgeDraft>();
    for (const port of eps?.ports ?? []) {
      const usable = new Set(port.usable);
      for (const ep of port.endpoints) {
        if (ep.podName === undefined || ep.podNamespace === undefined) continue;
        const pk = `${ep.podNamespace}/${ep.podName}`;
        const picks = endpointPicks.get(`${key}|${ep.ip}:${ep.port}`) ?? 0;
        const failures = endpointFailures?.get(`${key}|${ep.ip}:${ep.port}`) ?? 0;
        const existing = toPods.get(pk);
        if (existing) {
          existing.total = (existing.total ?? 0) + picks;
          if (existing.errors !== undefined) existing.errors += failures;
          existing.down &&= !usable.has(ep);
          continue;
        }
        const edge: EdgeDraft = {
          id: `${id.service(key)}>${id.pod(pk)}`,
          from: id.service(key),
          to: id.pod(pk),
          down: !usable.has(ep),
          total: picks,
          ...(endpointFailures === undefined ? {} : { errors: failures }),
        };
        toPods.set(pk, edge);
        edges.push(edge);
      }
    }
  }

  for (const p of snapshot.pods) {
    const key = podKey(p);
    addNode({
      id: id.pod(key),
      kind: 'pod',
      label: p.name,
      sublabel: `${p.namespace} · ${p.ip || p.phase}`,
      detail: `${p.ip || 'no IP'} on ${p.nodeName || '(unscheduled)'}, ${p.phase}${p.phase === 'Running' ? (p.ready ? ', Ready' : ', not Ready') : ''}${p.pending ? ` (${JSON.stringify(p.pending)})` : ''}`,
      status: podStatus(p, nodeRunning.get(p.nodeName) === true),
      faultTarget: `pod/${key}`,
    });
  }

  // Per route (`ingress/NS/NAME`) and pod, and per route and Service: the L7 pods' request counters.
  const routeTotals = new Map<string, { total: number; errors: number }>();
  const routeServiceTotals = new Map<string, { total: number; errors: number }>();
  const add = (m: Map<string, { total: number; errors: number }>, key: string, c: RouteRequests) => {
    const e = m.get(key) ?? { total: 0, errors: 0 };
    e.total += c.requests;
    e.errors += c.errors;
    m.set(key, e);
  };
  for (const c of input.routeRequests ?? []) {
    const kind = c.kind === 'Ingress' ? 'ingress' : c.kind === 'HTTPRoute' ? 'httproute' : undefined;
    if (kind === undefined) continue;
    const key = `${kind}/${c.namespace}/${c.route}`;
    add(routeTotals, `${key}|${c.pod}`, c);
    if (c.service !== '') add(routeServiceTotals, `${key}|${c.service}`, c);
  }
  const counted = (c: { total: number; errors: number } | undefined) =>
    input.routeRequests === undefined ? {} : { total: c?.total ?? 0, errors: c?.errors ?? 0 };

  for (const r of routes(snapshot)) {
    const nodeId = id.route(r.kind, r.key);
    const routeKey = `${r.kind}/${r.key}`;
    addNode({
      id: nodeId,
      kind: 'route',
      label: r.key.slice(r.key.indexOf('/') + 1),
      sublabel: `${r.key.slice(0, r.key.indexOf('/'))} · ${r.kind === 'ingress' ? 'Ingress' : 'HTTPRoute'}`,
      detail: [...r.hosts].sort().join(' '),
      status: r.services.size > 0 ? 'ok' : 'down',
      faultTarget: `${r.kind}/${r.key}`,
    });
    for (const pod of r.pods) {
      edges.push({ id: `${id.pod(pod)}>${nodeId}`, from: id.pod(pod), to: nodeId, down: false, ...counted(routeTotals.get(`${routeKey}|${pod}`)) });
    }
    for (const svc of [...r.services].sort()) {
      if (!serviceByKey.has(svc)) continue;
      edges.push({
        id: `${nodeId}>${id.service(svc)}`,
        from: nodeId,
        to: id.service(svc),
        down: false,
        ...counted(routeServiceTotals.get(`${routeKey}|${svc}`)),
      });
    }
  }

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const dt = previous === undefined ? 0 : input.now - previous.at;
  const totals = new Map<string, { total: number; errors: number }>();
  const finished: GraphEdge[] = [];
  for (const e of edges) {
    if (!byId.has(e.from) || !byId.has(e.to)) continue;
    let rate: number | undefined;
    let errorRate: number | undefined;
    if (e.total !== undefined) {
      const before = previous?.totals.get(e.id);
      totals.set(e.id, { total: e.total, errors: e.errors ?? 0 });
      // Counters restart when their key leaves the snapshot and comes back: no negative rates.
      rate = before && dt > 0 ? Math.max(0, e.total - before.total) / (dt / 1000) : 0;
      if (e.errors !== undefined) errorRate = before && dt > 0 ? Math.max(0, e.errors - before.errors) / (dt / 1000) : 0;
    }
    const target = byId.get(e.to)!;
    const status: HopStatus = target.faults.length > 0 ? 'fault' : (errorRate ?? 0) > 0 ? 'error' : e.pending ? 'pending' : e.down ? 'down' : 'ok';
    finished.push({
      id: e.id,
      from: e.from,
      to: e.to,
      status,
      ...(e.total !== undefined ? { total: e.total, rate: round(rate!) } : {}),
      ...(e.errors !== undefined ? { errors: e.errors, errorRate: round(errorRate!) } : {}),
    });
  }

  return {
    state: {
      kind: 'DashboardState',
      snapshotVersion: snapshot.version,
      generatedAt: new Date(input.now).toISOString(),
      intervalMs: dt,
      nodes,
      edges: finished,
      faults,
      faultTypes: input.faultTypes,
      faultsAvailable: input.faults !== undefined,
      activeConnections: stats?.activeConnections ?? 0,
    },
    sample: { at: input.now, totals },
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
