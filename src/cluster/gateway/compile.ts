/**
 * Gateway API objects → route tables and status, as Istio's gateway controller computes
 * them: GatewayClasses whose controllerName is istio.io/gateway-controller are Accepted;
 * each of their Gateways gets one route table per listener port; each route's parentRefs
 * are checked against the listeners (sectionName/port, allowedRoutes, hostnames) and
 * its references resolved, with the standard condition reasons. Pure: no sockets.
 */
import type { GatewayApiObjects, GRPCRoute, HTTPRoute, HTTPRouteMatch, ParentReference, TCPRoute, TLSRoute } from '../../model/gateway-types.js';
import { objectKey, type Namespace, type Secret } from '../../model/types.js';
import type { ServiceEndpoints, ServiceInfo } from '../snapshot.js';
import type { IngressConfig, ServerConfig, TlsCertificate } from '../ingress/types.js';
import type { RouteRuleConfig } from '../ingress/route-rules.js';
import { UpstreamTable } from '../ingress/upstream-table.js';
import { compileSafeRegex } from '../ingress/safe-regex.js';
import { kindAllowed, namespaceAllowed, routeHostnames } from './attachment.js';
import { effectiveGatewayClasses, gatewayServiceName, servedClasses } from './infrastructure.js';
import { checkListeners, type CheckedListener } from './listeners.js';
import { compareRouteOrder, grpcRuleInputs } from './grpc.js';
import { comparePrecedence, compileRule, resolveBackend, type RefProblem, type RouteContext, type RuleInput } from './route-compile.js';
import {
  GATEWAY_CONTROLLER_NAME,
  type CompiledGateway,
  type Condition,
  type GatewayCompileResult,
  type GatewayStatus,
  type ListenerTable,
  type RouteParentStatus,
  type RouteStatus,
  type SniRoute,
  type TcpListenerTable,
} from './types.js';

const GROUP = 'gateway.networking.k8s.io';

export interface GatewayCompileInput {
  readonly objects: GatewayApiObjects;
  readonly namespaces: readonly Namespace[];
  readonly services: readonly ServiceInfo[];
  readonly endpoints: readonly ServiceEndpoints[];
  readonly secrets: readonly Secret[];
  /** ISO time for lastTransitionTime (the injected clock's). */
  readonly now: string;
}

type AnyRoute = HTTPRoute | GRPCRoute;

interface GatewayState {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly className: string;
  readonly listeners: readonly CheckedListener[];
  readonly attached: Map<string, number>;
  /** port → hostname → rules */
  readonly servers: Map<number, Map<string, RouteRuleConfig[]>>;
  /** TCP listener port → the first attached TCPRoute's backends; TLS port → backends by SNI. */
  readonly tcp: Map<number, TcpListenerTable & { sni?: SniRoute[] }>;
}

function regexProblem(matches: readonly HTTPRouteMatch[]): string | undefined {
  for (const m of matches) {
    const values = [
      ...(m.path.type === 'RegularExpression' ? [m.path.value] : []),
      ...[...m.headers, ...m.queryParams].filter((h) => h.type === 'RegularExpression').map((h) => h.value),
    ];
    for (const v of values) {
      try {
        compileSafeRegex(v);
      } catch (err) {
        return `invalid regular expression ${JSON.stringify(v)}: ${(err as Error).message}`;
      }
    }
  }
  return undefined;
}

function unsupportedFilter(route: AnyRoute): string | undefined {
  for (const rule of route.rules) {
    const own = rule.filters.find((f) => f.type === 'ExtensionRef' || f.type === 'CORS' || f.type === 'ExternalAuth');
    if (own) return `filter type ${own.type} is not supported by aks-emu's gateway`;
    if (rule.backendRefs.some((b) => b.filters.length > 0)) return "filters on backendRefs are not supported by aks-emu's gateway";
  }
  return undefined;
}

class GatewayCompiler {
  readonly notices: string[] = [];
  readonly routeStatuses: Record<string, RouteStatus> = {};
  readonly gateways = new Map<string, GatewayState>();
  readonly table: UpstreamTable;
  readonly #input: GatewayCompileInput;
  readonly #services: ReadonlyMap<string, ServiceInfo>;

  constructor(input: GatewayCompileInput) {
    this.#input = input;
    this.table = new UpstreamTable(input.services, input.endpoints);
    this.#services = new Map(input.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  }

  cond(type: string, ok: boolean, reason: string, message: string): Condition {
    return { type, status: ok ? 'True' : 'False', reason, message, observedGeneration: 1, lastTransitionTime: this.#input.now };
  }

  classes(): GatewayCompileResult['gatewayClasses'] {
    const all = effectiveGatewayClasses(this.#input.objects);
    const served = servedClasses(all);
    const out: Record<string, { controllerName: string; conditions: Condition[] }> = {};
    for (const c of all) {
      if (!served.has(c.metadata.name)) {
        this.notices.push(
          `GatewayClass ${c.metadata.name}: controller ${c.controllerName} is not run by aks-emu (it runs ${GATEWAY_CONTROLLER_NAME}); the class stays unaccepted`,
        );
        continue;
      }
      out[c.metadata.name] = { controllerName: c.controllerName, conditions: [this.cond('Accepted', true, 'Accepted', 'Handled by Istio controller')] };
    }
    for (const gw of this.#input.objects.gateways) {
      const key = objectKey(gw.metadata);
      if (!served.has(gw.gatewayClassName)) {
        this.notices.push(
          `Gateway ${key}: GatewayClass ${JSON.stringify(gw.gatewayClassName)} is not served by aks-emu (approuting-istio and istio are); the Gateway is ignored`,
        );
        continue;
      }
      const listeners = checkListeners(gw, { secrets: this.#input.secrets, grants: this.#input.objects.referenceGrants });
      this.gateways.set(key, {
        key,
        namespace: gw.metadata.namespace,
        name: gw.metadata.name,
        className: gw.gatewayClassName,
        listeners,
        attached: new Map(),
        servers: new Map(),
        tcp: new Map(),
      });
    }
    return out;
  }

  routes(): void {
    const { httpRoutes, grpcRoutes, tcpRoutes, tlsRoutes } = this.#input.objects;
    const l7: AnyRoute[] = [...httpRoutes, ...grpcRoutes];
    l7.sort(compareRouteOrder);
    const all: (AnyRoute | TCPRoute | TLSRoute)[] = [...l7, ...(tcpRoutes ?? []), ...(tlsRoutes ?? [])];
    for (const route of all) {
      const parents: RouteParentStatus[] = [];
      for (const ref of route.parentRefs) {
        const status = this.#attach(route, ref);
        if (status) parents.push(status);
      }
      if (parents.length > 0) this.routeStatuses[`${route.kind}/${objectKey(route.metadata)}`] = { parents };
    }
  }

  #attach(route: AnyRoute | TCPRoute | TLSRoute, ref: ParentReference): RouteParentStatus | undefined {
    if (ref.group !== GROUP || ref.kind !== 'Gateway') return undefined;
    const routeNs = route.metadata.namespace;
    const gwNs = ref.namespace ?? routeNs;
    const gw = this.gateways.get(`${gwNs}/${ref.name}`);
    if (!gw) return undefined;
    const parentRef = {
      group: GROUP,
      kind: 'Gateway',
      namespace: gwNs,
      name: ref.name,
      ...(ref.sectionName ? { sectionName: ref.sectionName } : {}),
      ...(ref.port ? { port: ref.port } : {}),
    };
    const result = (accepted: Condition, resolved: Condition): RouteParentStatus => ({
      parentRef,
      controllerName: GATEWAY_CONTROLLER_NAME,
      conditions: [accepted, resolved],
    });
    const resolvedOk = this.cond('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved');
    const reject = (reason: string, message: string) => result(this.cond('Accepted', false, reason, message), resolvedOk);
    const candidates = gw.listeners.filter(
      (l) => (ref.sectionName === undefined || l.listener.name === ref.sectionName) && (ref.port === undefined || l.listener.port === ref.port),
    );
    if (candidates.length === 0)
      return reject('NoMatchingParent', `no listener matches sectionName ${JSON.stringify(ref.sectionName ?? '')}${ref.port ? ` port ${ref.port}` : ''}`);
    const allowed = candidates.filter(
      (l) => namespaceAllowed(l.listener, gw.namespace, routeNs, this.#input.namespaces) && kindAllowed(l.listener, route.kind),
    );
    if (allowed.length === 0) return reject('NotAllowedByListeners', `${route.kind} in namespace "${routeNs}" is not allowed by the listeners' allowedRoutes`);
    const hostnames = route.kind === 'TCPRoute' ? [] : route.hostnames;
    const hosted = allowed.map((l) => ({ l, hosts: routeHostnames(l.listener, hostnames) })).filter((x) => x.hosts.length > 0);
    if (hosted.length === 0) return reject('NoMatchingListenerHostname', 'no hostnames matched parent hostname');
    if (route.kind === 'TCPRoute' || route.kind === 'TLSRoute') {
      const problems = this.#attachL4(gw, route, hosted);
      const first = problems[0];
      const resolved = first ? this.cond('ResolvedRefs', false, first.reason, first.message) : resolvedOk;
      return result(this.cond('Accepted', true, 'Accepted', 'Route was valid'), resolved);
    }
    const inputs = route.kind === 'HTTPRoute' ? httpRuleInputs(route) : grpcRuleInputs(route);
    const bad = unsupportedFilter(route) ?? regexProblem(inputs.flatMap((i) => i.matches));
    if (bad) return reject('UnsupportedValue', bad);
    const ctx: RouteContext = {
      table: this.table,
      grants: this.#input.objects.referenceGrants,
      routeKind: route.kind,
      namespace: routeNs,
      services: this.#services,
    };
    const problems: RefProblem[] = [];
    for (const { l, hosts } of hosted) {
      gw.attached.set(l.listener.name, (gw.attached.get(l.listener.name) ?? 0) + 1);
      if (!l.usable) continue;
      const port = l.listener.port;
      const byHost = gw.servers.get(port) ?? new Map<string, RouteRuleConfig[]>();
      gw.servers.set(port, byHost);
      for (const input of inputs) {
        const compiled = compileRule(ctx, input, port);
        problems.push(...compiled.problems);
        for (const host of hosts) {
          const key = host === '*' ? '_' : host;
          byHost.set(key, [...(byHost.get(key) ?? []), ...compiled.rules]);
        }
      }
    }
    const first = problems[0];
    const resolved = first ? this.cond('ResolvedRefs', false, first.reason, first.message) : resolvedOk;
    return result(this.cond('Accepted', true, 'Accepted', 'Route was valid'), resolved);
  }

  /**
   * A TCPRoute or TLSRoute on its listeners. A TCP listener port takes the first TCPRoute's
   * backends (a TCP listener has no way to tell two routes' connections apart); a TLS
   * port takes each hostname from the first TLSRoute that names it. Only the first rule
   * counts, as Istio's translation uses only the first.
   */
  #attachL4(gw: GatewayState, route: TCPRoute | TLSRoute, hosted: readonly { l: CheckedListener; hosts: string[] }[]): RefProblem[] {
    const ctx: RouteContext = {
      table: this.table,
      grants: this.#input.objects.referenceGrants,
      routeKind: route.kind,
      namespace: route.metadata.namespace,
      services: this.#services,
    };
    const problems: RefProblem[] = [];
    const backends = (route.rules[0]?.backendRefs ?? []).map((ref) => {
      const r = resolveBackend(ctx, ref);
      if (r.problem) problems.push(r.problem);
      const endpoints = this.table.get(r.upstream)?.endpoints ?? [];
      return {
        weight: ref.weight,
        ref: `${ref.namespace ?? ctx.namespace}/${ref.name}:${ref.port ?? ''}`,
        endpoints,
        ...(r.problem ? { invalid: r.problem.message } : {}),
      };
    });
    const name = `${route.kind} ${objectKey(route.metadata)}`;
    for (const { l, hosts } of hosted) {
      gw.attached.set(l.listener.name, (gw.attached.get(l.listener.name) ?? 0) + 1);
      if (!l.usable) continue;
      const port = l.listener.port;
      if (route.kind === 'TCPRoute') {
        if (!gw.tcp.has(port)) gw.tcp.set(port, { port, route: name, backends });
        continue;
      }
      const table = gw.tcp.get(port) ?? { port, route: '', backends: [], sni: [] };
      gw.tcp.set(port, table);
      for (const hostname of hosts) if (!table.sni?.some((s) => s.hostname === hostname)) table.sni?.push({ hostname, route: name, backends });
    }
    return problems;
  }

  finish(): { gateways: CompiledGateway[]; statuses: Record<string, GatewayStatus> } {
    const gateways: CompiledGateway[] = [];
    const statuses: Record<string, GatewayStatus> = {};
    const upstreams = this.table.all();
    for (const gw of this.gateways.values()) {
      const serviceName = gatewayServiceName(gw.name, gw.className);
      const svc = this.#services.get(`${gw.namespace}/${serviceName}`);
      const address = svc?.loadBalancer?.ip;
      const tables: ListenerTable[] = [];
      const l7 = (l: CheckedListener) => l.usable && l.listener.protocol !== 'TCP' && l.listener.protocol !== 'TLS';
      const ports = [...new Set(gw.listeners.filter(l7).map((l) => l.listener.port))];
      for (const port of ports) {
        const onPort = gw.listeners.filter((l) => l.usable && l.listener.port === port);
        const protocol = onPort[0]?.listener.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP';
        const certificates = new Map<string, TlsCertificate>();
        const sni: { hostname: string; certificate: string }[] = [];
        for (const l of onPort) {
          if (!l.certificate) continue;
          certificates.set(l.certificate.id, l.certificate);
          sni.push({ hostname: l.listener.hostname ?? '_', certificate: l.certificate.id });
        }
        const servers: ServerConfig[] = [...(gw.servers.get(port) ?? new Map<string, RouteRuleConfig[]>())]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([hostname, rules]) => ({ hostname, regexBy: [], locations: [], routes: [...rules].sort(comparePrecedence) }));
        const config: IngressConfig = { servers, upstreams, certificates: [...certificates.values()], dialect: 'gateway-api', sni };
        tables.push({ port, protocol, config });
      }
      // A TCP or TLS listener without a route still listens (and resets every connection).
      for (const l of gw.listeners) {
        if (!l.usable || gw.tcp.has(l.listener.port)) continue;
        if (l.listener.protocol === 'TCP') gw.tcp.set(l.listener.port, { port: l.listener.port, route: '', backends: [] });
        if (l.listener.protocol === 'TLS') gw.tcp.set(l.listener.port, { port: l.listener.port, route: '', backends: [], sni: [] });
      }
      const tcpTables = [...gw.tcp.values()];
      gateways.push({
        namespace: gw.namespace,
        name: gw.name,
        className: gw.className,
        serviceName,
        ...(address ? { address } : {}),
        tables,
        ...(tcpTables.length > 0 ? { tcpTables } : {}),
      });
      statuses[gw.key] = this.#gatewayStatus(gw, serviceName, address);
    }
    return { gateways, statuses };
  }

  #gatewayStatus(gw: GatewayState, serviceName: string, address: string | undefined): GatewayStatus {
    const listeners = gw.listeners.map((l) => {
      const problem = (type: string) => l.problems.find((p) => p.type === type);
      const accepted = problem('Accepted');
      const conflicted = problem('Conflicted');
      const resolved = problem('ResolvedRefs');
      return {
        name: l.listener.name,
        supportedKinds: l.supportedKinds,
        attachedRoutes: gw.attached.get(l.listener.name) ?? 0,
        conditions: [
          accepted ? this.cond('Accepted', false, accepted.reason, accepted.message) : this.cond('Accepted', true, 'Accepted', 'No errors found'),
          conflicted
            ? { ...this.cond('Conflicted', true, conflicted.reason, conflicted.message) }
            : this.cond('Conflicted', false, 'NoConflicts', 'No errors found'),
          l.usable
            ? this.cond('Programmed', true, 'Programmed', 'No errors found')
            : this.cond('Programmed', false, 'Invalid', 'Listener is invalid, see other conditions'),
          resolved ? this.cond('ResolvedRefs', false, resolved.reason, resolved.message) : this.cond('ResolvedRefs', true, 'ResolvedRefs', 'No errors found'),
        ],
      };
    });
    const invalid = gw.listeners.some((l) => !l.usable);
    const host = `${serviceName}.${gw.namespace}.svc.cluster.local`;
    return {
      addresses: address ? [{ type: 'IPAddress', value: address }] : [],
      conditions: [
        invalid ? this.cond('Accepted', true, 'ListenersNotValid', 'Some listeners are invalid') : this.cond('Accepted', true, 'Accepted', 'Resource accepted'),
        address
          ? this.cond('Programmed', true, 'Programmed', `Resource programmed, assigned to service(s) ${host}`)
          : this.cond(
              'Programmed',
              false,
              'AddressNotAssigned',
              `Assigned to service(s) ${host}, but failed to assign to all requested addresses: the LoadBalancer Service has no frontend IP yet`,
            ),
      ],
      listeners,
    };
  }
}

function httpRuleInputs(route: HTTPRoute): RuleInput[] {
  const name = `HTTPRoute ${objectKey(route.metadata)}`;
  return route.rules.map((r, i) => ({
    route: name,
    rule: i,
    matches: r.matches,
    filters: r.filters,
    backendRefs: r.backendRefs,
    ...(r.timeouts ? { timeouts: r.timeouts } : {}),
  }));
}

export function compileGateways(input: GatewayCompileInput): GatewayCompileResult {
  const c = new GatewayCompiler(input);
  const gatewayClasses = c.classes();
  c.routes();
  const { gateways, statuses } = c.finish();
  return { gateways, gatewayClasses, gatewayStatuses: statuses, routeStatuses: c.routeStatuses, notices: c.notices };
}
