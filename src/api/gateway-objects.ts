/**
 * Gateway API objects through the admin API's Kubernetes paths
 * (/apis/gateway.networking.k8s.io/v1/...), each with the status the built-in controller
 * computed, read-only, for the admin servers without the Kubernetes API (the container
 * runtime's); where that API is mounted (`up`, startCluster) it serves these paths from the
 * object store first (src/api/kube). And `explain route`: which Gateway route, rule and
 * backend a request takes.
 */
import type { GatewayCompileResult } from '../cluster/gateway/types.js';
import type { Snapshot } from '../cluster/snapshot.js';
import { buildRouter } from '../dataplane/ingress/index.js';
import { explainRoute, formatRouteExplanation } from '../dataplane/ingress/explain-route.js';
import { AksEmuError } from '../errors/index.js';
import type { Gateway, GatewayApiObjects, GRPCRoute, HTTPRoute, HTTPRouteFilter } from '../model/gateway-types.js';
import { NO_GATEWAY_OBJECTS } from '../model/gateway-types.js';
import type { Manifests } from '../model/types.js';
import type { CreationTimes } from './kube-objects.js';

const GROUP = 'gateway.networking.k8s.io';

type Located = {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string; readonly labels: object; readonly annotations: object };
};

function objectOf(o: Located, apiVersion: string, spec: object, status: object | undefined, created: CreationTimes) {
  const { name, namespace, uid, labels, annotations } = o.metadata;
  const key = namespace ? `${namespace}/${name}` : name;
  return {
    kind: o.kind,
    apiVersion,
    metadata: { name, ...(namespace ? { namespace } : {}), uid, creationTimestamp: created(o.kind, key), generation: 1, labels, annotations },
    spec,
    ...(status ? { status } : {}),
  };
}

function specOf(o: object): object {
  const { kind: _k, source: _s, metadata: _m, ...rest } = o as Record<string, unknown>;
  return rest;
}

const FILTER_FIELD: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
};

/** A normalised filter back in the API's shape: `{type, <field>: {...}}`. */
function filterJson(f: HTTPRouteFilter): object {
  const field = FILTER_FIELD[f.type] ?? f.type;
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      return { type: f.type, [field]: f.modifier };
    case 'RequestRedirect':
    case 'URLRewrite': {
      const { type, path, ...rest } = f;
      const p = path ? { path: { type: path.type, [path.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch']: path.value } } : {};
      return { type, [field]: { ...rest, ...p } };
    }
    case 'RequestMirror':
      return { type: f.type, [field]: { backendRef: f.backendRef, ...(f.percent === undefined ? {} : { percent: f.percent }) } };
    default:
      return { type: f.type, [field]: { name: f.name } };
  }
}

function routeSpec(r: HTTPRoute | GRPCRoute): object {
  const rules = (r.rules as readonly { filters: readonly HTTPRouteFilter[]; backendRefs: readonly { filters: readonly HTTPRouteFilter[] }[] }[]).map(
    (rule) => ({
      ...rule,
      filters: rule.filters.map(filterJson),
      backendRefs: rule.backendRefs.map((b) => ({ ...b, filters: b.filters.map(filterJson) })),
    }),
  );
  return { parentRefs: r.parentRefs, hostnames: r.hostnames, rules };
}

function gatewaySpec(g: Gateway): object {
  const listeners = g.listeners.map(({ allowedRoutes, ...l }) => ({
    ...l,
    allowedRoutes: {
      namespaces: { from: allowedRoutes.from, ...(allowedRoutes.selector ? { selector: allowedRoutes.selector } : {}) },
      ...(allowedRoutes.kinds ? { kinds: allowedRoutes.kinds } : {}),
    },
  }));
  return { gatewayClassName: g.gatewayClassName, listeners, ...(g.addresses.length ? { addresses: g.addresses } : {}), infrastructure: g.infrastructure };
}

export type GatewayResource = 'gatewayclasses' | 'gateways' | 'httproutes' | 'grpcroutes' | 'tcproutes' | 'tlsroutes' | 'referencegrants';

const KINDS: Record<GatewayResource, { list: string; version: string }> = {
  gatewayclasses: { list: 'GatewayClassList', version: 'v1' },
  gateways: { list: 'GatewayList', version: 'v1' },
  httproutes: { list: 'HTTPRouteList', version: 'v1' },
  grpcroutes: { list: 'GRPCRouteList', version: 'v1' },
  tcproutes: { list: 'TCPRouteList', version: 'v1alpha2' },
  tlsroutes: { list: 'TLSRouteList', version: 'v1alpha2' },
  referencegrants: { list: 'ReferenceGrantList', version: 'v1beta1' },
};

function items(
  objects: GatewayApiObjects,
  resource: GatewayResource,
  status: GatewayCompileResult | undefined,
  created: CreationTimes,
  ns?: string,
  name?: string,
) {
  const version = `${GROUP}/${KINDS[resource].version}`;
  const keep = (o: Located) => (ns === undefined || o.metadata.namespace === ns) && (name === undefined || o.metadata.name === name);
  switch (resource) {
    case 'gatewayclasses': {
      const served = status?.gatewayClasses ?? {};
      return objects.gatewayClasses.filter(keep).map((c) => {
        const st = served[c.metadata.name];
        return objectOf(
          c,
          version,
          { controllerName: c.controllerName, ...(c.description ? { description: c.description } : {}) },
          st ? { conditions: st.conditions } : undefined,
          created,
        );
      });
    }
    case 'gateways':
      return objects.gateways
        .filter(keep)
        .map((g) => objectOf(g, version, gatewaySpec(g), status?.gatewayStatuses[`${g.metadata.namespace}/${g.metadata.name}`], created));
    case 'httproutes':
      return objects.httpRoutes
        .filter(keep)
        .map((r) =>
          objectOf(r, version, routeSpec(r), status?.routeStatuses[`HTTPRoute/${r.metadata.namespace}/${r.metadata.name}`] ?? { parents: [] }, created),
        );
    case 'grpcroutes':
      return objects.grpcRoutes
        .filter(keep)
        .map((r) =>
          objectOf(r, version, routeSpec(r), status?.routeStatuses[`GRPCRoute/${r.metadata.namespace}/${r.metadata.name}`] ?? { parents: [] }, created),
        );
    case 'tcproutes':
    case 'tlsroutes': {
      const routes = resource === 'tcproutes' ? (objects.tcpRoutes ?? []) : (objects.tlsRoutes ?? []);
      return routes.filter(keep).map((r) => {
        const spec = { parentRefs: r.parentRefs, ...(r.kind === 'TLSRoute' ? { hostnames: r.hostnames } : {}), rules: r.rules };
        return objectOf(r, version, spec, status?.routeStatuses[`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`] ?? { parents: [] }, created);
      });
    }
    case 'referencegrants':
      return objects.referenceGrants.filter(keep).map((g) => objectOf(g, version, specOf(g), undefined, created));
  }
}

/** The list (or, with a name, the one object) the API server would return. */
export function gatewayApiList(snapshot: Snapshot, manifests: Manifests, resource: GatewayResource, created: CreationTimes, ns?: string, name?: string) {
  const objects = withBuiltInClasses(manifests.gatewayApi ?? NO_GATEWAY_OBJECTS, snapshot.gateway);
  const found = items(objects, resource, snapshot.gateway, created, ns, name);
  if (name !== undefined) {
    const one = found[0];
    if (!one) throw new AksEmuError('AKS_EMU_NOT_FOUND', `${resource}.${GROUP} "${name}" not found${ns ? ` in namespace "${ns}"` : ''}`);
    return one;
  }
  return {
    kind: KINDS[resource].list,
    apiVersion: `${GROUP}/${KINDS[resource].version}`,
    metadata: { resourceVersion: String(snapshot.version) },
    items: found,
  };
}

/** The built-in GatewayClasses exist in the cluster even when no manifest names them. */
function withBuiltInClasses(objects: GatewayApiObjects, status: GatewayCompileResult | undefined): GatewayApiObjects {
  const own = new Set(objects.gatewayClasses.map((c) => c.metadata.name));
  const builtIn = Object.entries(status?.gatewayClasses ?? {})
    .filter(([name]) => !own.has(name))
    .map(([name, c]) => ({
      kind: 'GatewayClass' as const,
      source: { file: '<built-in>', doc: 0 },
      metadata: { name, namespace: '', uid: `built-in-${name}`, labels: {}, annotations: {} },
      controllerName: c.controllerName,
    }));
  return { ...objects, gatewayClasses: [...builtIn, ...objects.gatewayClasses] };
}

/** `explain route`: query gateway=NS/NAME, host, path, port (default: the first listener port), method, header=K:V. */
export function explainGatewayRoute(snapshot: Snapshot, q: URLSearchParams) {
  const ref = q.get('gateway') ?? '';
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  if (!name) throw new AksEmuError('AKS_EMU_USAGE', 'explain route needs a gateway (?gateway=NAMESPACE/NAME)');
  const gateway = snapshot.gateway?.gateways.find((g) => g.namespace === ns && g.name === name);
  if (!gateway) throw new AksEmuError('AKS_EMU_NOT_FOUND', `gateways.${GROUP} "${name}" not found in namespace "${ns}" (or its class is not served)`);
  const host = q.get('host');
  if (!host) throw new AksEmuError('AKS_EMU_USAGE', 'explain route needs a host (?host=...)');
  const path = q.get('path') ?? '/';
  if (!path.startsWith('/')) throw new AksEmuError('AKS_EMU_USAGE', `path "${path}" must start with /`);
  const port = q.get('port') === null ? gateway.tables[0]?.port : Number(q.get('port'));
  const table = gateway.tables.find((t) => t.port === port);
  if (!table) throw new AksEmuError('AKS_EMU_NOT_FOUND', `gateway "${ns}/${name}" serves no routes on port ${String(port)}`);
  const headers: Record<string, string> = {};
  for (const h of q.getAll('header')) {
    const i = h.indexOf(':');
    if (i <= 0) throw new AksEmuError('AKS_EMU_USAGE', `header "${h}" must look like Name:value`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const explanation = explainRoute(buildRouter(table.config), { host, path, method: q.get('method') ?? 'GET', headers });
  return { explanation, text: formatRouteExplanation(`${ns}/${name}`, table.port, explanation) };
}

/** The admin API's Gateway API paths, for the server's route table. */
export function gatewayApiPaths(): [string, GatewayResource, 'all' | 'namespace' | 'one'][] {
  const out: [string, GatewayResource, 'all' | 'namespace' | 'one'][] = [];
  for (const resource of Object.keys(KINDS) as GatewayResource[]) {
    const base = `/apis/${GROUP}/${KINDS[resource].version}`;
    if (resource === 'gatewayclasses') {
      out.push([`${base}/gatewayclasses`, resource, 'all'], [`${base}/gatewayclasses/:name`, resource, 'one']);
      continue;
    }
    out.push(
      [`${base}/${resource}`, resource, 'all'],
      [`${base}/namespaces/:ns/${resource}`, resource, 'namespace'],
      [`${base}/namespaces/:ns/${resource}/:name`, resource, 'one'],
    );
  }
  return out;
}
