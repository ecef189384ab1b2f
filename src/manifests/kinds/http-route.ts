/**
 * HTTPRoute and GRPCRoute (gateway.networking.k8s.io/v1), checked as the CRDs' schema and
 * CEL rules check them: path values, header names, filter shapes and combinations,
 * redirect status codes, weights. Messages are the CRDs' own.
 */
import type {
  BackendRef,
  GRPCRoute,
  GRPCRouteRule,
  HeaderModifier,
  HTTPBackendRef,
  HTTPHeaderMatch,
  HTTPRoute,
  HTTPRouteFilter,
  HTTPRouteMatch,
  HTTPRouteRule,
  ParentReference,
  PathModifier,
  ValueMatchType,
} from '../../model/gateway-types.js';
import { readInt, readObj, readObjList, readString, readStringList, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { checkHostname, patternMismatch, readReference } from './gateway.js';
import type { Located } from './located.js';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
const FILTER_TYPES = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestMirror',
  'RequestRedirect',
  'URLRewrite',
  'ExtensionRef',
  'CORS',
  'ExternalAuth',
];
const FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
};

/** The CEL rules on an Exact/PathPrefix value (HTTPPathMatch x-kubernetes-validations). */
export function pathValueErrors(type: string, value: string): string[] {
  if (type === 'RegularExpression') return [];
  if (!value.startsWith('/')) return ["value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"];
  const errs: string[] = [];
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) {
    if (value.includes(bad)) errs.push(`must not contain '${bad}' when type one of ['Exact', 'PathPrefix']`);
  }
  for (const end of ['/..', '/.']) {
    if (value.endsWith(end)) errs.push(`must not end with '${end}' when type one of ['Exact', 'PathPrefix']`);
  }
  if (!PATH_CHARS.test(value)) {
    errs.push(`must only contain valid characters (matching ${PATH_CHARS.source}) for types ['Exact', 'PathPrefix']`);
  }
  return errs;
}

export function readParentRefs(r: Reporter, s: Obj): ParentReference[] {
  return readObjList(r, s, 'parentRefs', 'spec').map(({ item, path }) => {
    const ref = readReference(r, item, path, 'gateway.networking.k8s.io', 'Gateway');
    const sectionName = readString(r, item, 'sectionName', path);
    const port = readInt(r, item, 'port', path);
    return { ...ref, ...(sectionName === undefined ? {} : { sectionName }), ...(port === undefined ? {} : { port }) };
  });
}

export function readHostnames(r: Reporter, s: Obj): string[] {
  const hostnames = readStringList(r, s, 'hostnames', 'spec');
  hostnames.forEach((h, i) => checkHostname(r, `spec.hostnames[${i}]`, h));
  return hostnames;
}

function matchType(r: Reporter, o: Obj, path: string): ValueMatchType {
  const t = readString(r, o, 'type', path) ?? 'Exact';
  if (t !== 'Exact' && t !== 'RegularExpression') r.notSupported(`${path}.type`, t, ['Exact', 'RegularExpression']);
  return t === 'RegularExpression' ? 'RegularExpression' : 'Exact';
}

/** Header or query param matches: names unique within the match (the CRD's listMapKey). */
export function readValueMatches(r: Reporter, o: Obj, key: string, path: string, caseInsensitive: boolean): HTTPHeaderMatch[] {
  const seen = new Set<string>();
  return readObjList(r, o, key, path).map(({ item, path: p }) => {
    const name = readString(r, item, 'name', p) ?? '';
    if (name === '') r.required(`${p}.name`);
    else patternMismatch(r, `${p}.name`, name, HEADER_NAME, HEADER_NAME.source);
    const k = caseInsensitive ? name.toLowerCase() : name;
    if (seen.has(k)) r.duplicate(`${p}.name`, name);
    seen.add(k);
    const value = readString(r, item, 'value', p) ?? '';
    if (value === '') r.required(`${p}.value`);
    return { type: matchType(r, item, p), name, value };
  });
}

function readMatch(r: Reporter, item: Obj, p: string): HTTPRouteMatch {
  const pathObj = readObj(r, item, 'path', p) ?? {};
  const type = readString(r, pathObj, 'type', `${p}.path`) ?? 'PathPrefix';
  const types = ['Exact', 'PathPrefix', 'RegularExpression'];
  if (!types.includes(type)) r.notSupported(`${p}.path.type`, type, types);
  const value = readString(r, pathObj, 'value', `${p}.path`) ?? '/';
  r.invalidEach(`${p}.path`, value, pathValueErrors(type, value));
  const method = readString(r, item, 'method', p);
  if (method !== undefined && !METHODS.includes(method)) r.notSupported(`${p}.method`, method, METHODS);
  return {
    path: { type: types.includes(type) ? (type as HTTPRouteMatch['path']['type']) : 'PathPrefix', value },
    headers: readValueMatches(r, item, 'headers', p, true),
    queryParams: readValueMatches(r, item, 'queryParams', p, false),
    ...(method === undefined ? {} : { method }),
  };
}

function readHeaderModifier(r: Reporter, o: Obj, p: string): HeaderModifier {
  const pairs = (key: string) =>
    readObjList(r, o, key, p).map(({ item, path }) => {
      const name = readString(r, item, 'name', path) ?? '';
      if (name === '') r.required(`${path}.name`);
      else patternMismatch(r, `${path}.name`, name, HEADER_NAME, HEADER_NAME.source);
      return { name, value: readString(r, item, 'value', path) ?? '' };
    });
  return { set: pairs('set'), add: pairs('add'), remove: readStringList(r, o, 'remove', p) };
}

function readPathModifier(r: Reporter, o: Obj, p: string): PathModifier | undefined {
  const type = readString(r, o, 'type', p) ?? '';
  const full = readString(r, o, 'replaceFullPath', p);
  const prefix = readString(r, o, 'replacePrefixMatch', p);
  if (type === 'ReplaceFullPath') {
    if (full === undefined) r.invalid(p, o, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'");
    if (prefix !== undefined) r.invalid(p, o, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set");
    return { type, value: full ?? '/' };
  }
  if (type === 'ReplacePrefixMatch') {
    if (prefix === undefined) r.invalid(p, o, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'");
    if (full !== undefined) r.invalid(p, o, "type must be 'ReplaceFullPath' when replaceFullPath is set");
    return { type, value: prefix ?? '/' };
  }
  r.notSupported(`${p}.type`, type, ['ReplaceFullPath', 'ReplacePrefixMatch']);
  return undefined;
}

export function readBackendRef(r: Reporter, item: Obj, p: string): BackendRef {
  const ref = readReference(r, item, p, '', 'Service');
  const port = readInt(r, item, 'port', p);
  const weight = readInt(r, item, 'weight', p) ?? 1;
  if (weight < 0 || weight > 1_000_000)
    r.invalid(`${p}.weight`, weight, `${p}.weight in body should be less than or equal to 1000000 and greater than or equal to 0`);
  if (port === undefined && ref.group === '' && ref.kind === 'Service') r.invalid(p, item, 'Must have port for Service reference');
  return { ...ref, ...(port === undefined ? {} : { port }), weight };
}

function readFilter(r: Reporter, item: Obj, p: string): HTTPRouteFilter | undefined {
  const type = readString(r, item, 'type', p) ?? '';
  if (!FILTER_TYPES.includes(type)) {
    r.notSupported(`${p}.type`, type, FILTER_TYPES);
    return undefined;
  }
  for (const [t, field] of Object.entries(FILTER_FIELDS)) {
    const present = item[field] !== undefined && item[field] !== null;
    if (t !== type && present) r.invalid(p, item, `filter.${field} must be nil if the filter.type is not ${t}`);
    if (t === type && !present && t !== 'CORS') r.invalid(p, item, `filter.${field} must be specified for ${t} filter.type`);
  }
  const body = readObj(r, item, FILTER_FIELDS[type] ?? '', p) ?? {};
  const bp = `${p}.${FILTER_FIELDS[type]}`;
  switch (type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      return { type, modifier: readHeaderModifier(r, body, bp) };
    case 'RequestRedirect': {
      const scheme = readString(r, body, 'scheme', bp);
      if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') r.notSupported(`${bp}.scheme`, scheme, ['http', 'https']);
      const hostname = readString(r, body, 'hostname', bp);
      if (hostname !== undefined) checkHostname(r, `${bp}.hostname`, hostname);
      const statusCode = readInt(r, body, 'statusCode', bp) ?? 302;
      if (statusCode !== 301 && statusCode !== 302) r.notSupported(`${bp}.statusCode`, statusCode, ['301', '302']);
      const port = readInt(r, body, 'port', bp);
      const pathObj = readObj(r, body, 'path', bp);
      const path = pathObj ? readPathModifier(r, pathObj, `${bp}.path`) : undefined;
      return { type, statusCode, ...(scheme ? { scheme } : {}), ...(hostname ? { hostname } : {}), ...(port ? { port } : {}), ...(path ? { path } : {}) };
    }
    case 'URLRewrite': {
      const hostname = readString(r, body, 'hostname', bp);
      if (hostname !== undefined) checkHostname(r, `${bp}.hostname`, hostname);
      const pathObj = readObj(r, body, 'path', bp);
      const path = pathObj ? readPathModifier(r, pathObj, `${bp}.path`) : undefined;
      return { type, ...(hostname ? { hostname } : {}), ...(path ? { path } : {}) };
    }
    case 'RequestMirror': {
      const ref = readObj(r, body, 'backendRef', bp) ?? {};
      const percent = readInt(r, body, 'percent', bp);
      return { type, backendRef: readBackendRef(r, ref, `${bp}.backendRef`), ...(percent === undefined ? {} : { percent }) };
    }
    default:
      return { type: type as 'ExtensionRef' | 'CORS' | 'ExternalAuth', name: readString(r, body, 'name', bp) ?? '' };
  }
}

/** The CEL rules on a filter list: no repeats of the single-use types, not both redirect and rewrite. */
export function readFilters(r: Reporter, o: Obj, p: string): HTTPRouteFilter[] {
  const filters = readObjList(r, o, 'filters', p).flatMap(({ item, path }) => readFilter(r, item, path) ?? []);
  const types = filters.map((f) => f.type);
  const fp = `${p === '' ? '' : `${p}.`}filters`;
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    r.invalid(fp, 'RequestRedirect, URLRewrite', 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
  }
  for (const single of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) {
    if (types.filter((t) => t === single).length > 1) r.invalid(fp, single, `${single} filter cannot be repeated`);
  }
  return filters;
}

function readHttpBackendRefs(r: Reporter, o: Obj, p: string): HTTPBackendRef[] {
  return readObjList(r, o, 'backendRefs', p).map(({ item, path }) => ({ ...readBackendRef(r, item, path), filters: readFilters(r, item, path) }));
}

function prefixRewriteNeedsOnePrefixMatch(
  r: Reporter,
  p: string,
  filters: readonly HTTPRouteFilter[],
  matches: readonly HTTPRouteMatch[],
  which: string,
): void {
  const uses = filters.some((f) => (f.type === 'RequestRedirect' || f.type === 'URLRewrite') && f.type === which && f.path?.type === 'ReplacePrefixMatch');
  if (uses && (matches.length !== 1 || matches[0]?.path.type !== 'PathPrefix')) {
    r.invalid(p, which, `When using ${which} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`);
  }
}

function readRule(r: Reporter, item: Obj, p: string): HTTPRouteRule {
  const matchItems = readObjList(r, item, 'matches', p);
  const matches =
    matchItems.length > 0
      ? matchItems.map(({ item: m, path }) => readMatch(r, m, path))
      : [{ path: { type: 'PathPrefix' as const, value: '/' }, headers: [], queryParams: [] }];
  const filters = readFilters(r, item, p);
  const backendRefs = readHttpBackendRefs(r, item, p);
  if (backendRefs.length > 0 && filters.some((f) => f.type === 'RequestRedirect')) {
    r.invalid(p, 'RequestRedirect', 'RequestRedirect filter must not be used together with backendRefs');
  }
  prefixRewriteNeedsOnePrefixMatch(r, p, filters, matches, 'RequestRedirect');
  prefixRewriteNeedsOnePrefixMatch(r, p, filters, matches, 'URLRewrite');
  const t = readObj(r, item, 'timeouts', p);
  let timeouts: HTTPRouteRule['timeouts'];
  if (t) {
    const request = readString(r, t, 'request', `${p}.timeouts`);
    const backendRequest = readString(r, t, 'backendRequest', `${p}.timeouts`);
    if (request !== undefined) patternMismatch(r, `${p}.timeouts.request`, request, DURATION, DURATION.source);
    if (backendRequest !== undefined) patternMismatch(r, `${p}.timeouts.backendRequest`, backendRequest, DURATION, DURATION.source);
    if (request !== undefined && backendRequest !== undefined && parseDurationMs(backendRequest) > parseDurationMs(request) && parseDurationMs(request) !== 0) {
      r.invalid(`${p}.timeouts`, t, 'backendRequest timeout cannot be longer than request timeout');
    }
    timeouts = { ...(request === undefined ? {} : { request }), ...(backendRequest === undefined ? {} : { backendRequest }) };
  }
  const name = readString(r, item, 'name', p);
  return { ...(name === undefined ? {} : { name }), matches, filters, backendRefs, ...(timeouts ? { timeouts } : {}) };
}

/** Gateway API Duration (`1h30m`, `500ms`) in milliseconds; 0 means no timeout. */
export function parseDurationMs(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) {
    const n = Number(m[1]);
    ms += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  }
  return ms;
}

export function routeSpec(r: Reporter, object: Obj): Obj {
  return readObj(r, object, 'spec', '') ?? {};
}

export function readHTTPRoute(r: Reporter, object: Obj, located: Located): HTTPRoute {
  const s = routeSpec(r, object);
  const items = readObjList(r, s, 'rules', 'spec');
  if (items.length > 16) r.invalid('spec.rules', items.length, 'spec.rules: Too many: must have at most 16 items');
  const rules = items.length > 0 ? items.map(({ item, path }) => readRule(r, item, path)) : [readRule(r, {}, 'spec.rules[0]')];
  const matches = rules.reduce((n, rule) => n + rule.matches.length, 0);
  if (matches > 128)
    r.invalid(
      'spec.rules',
      matches,
      'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128',
    );
  return { kind: 'HTTPRoute', ...located, parentRefs: readParentRefs(r, s), hostnames: readHostnames(r, s), rules };
}

function readGrpcRule(r: Reporter, item: Obj, p: string): GRPCRouteRule {
  const matches = readObjList(r, item, 'matches', p).map(({ item: m, path }) => {
    const methodObj = readObj(r, m, 'method', path);
    let method: GRPCRouteRule['matches'][number]['method'];
    if (methodObj) {
      const type = matchType(r, methodObj, `${path}.method`);
      const service = readString(r, methodObj, 'service', `${path}.method`);
      const name = readString(r, methodObj, 'method', `${path}.method`);
      if (service === undefined && name === undefined) r.invalid(`${path}.method`, methodObj, "One or both of 'service' or 'method' must be specified");
      method = { type, ...(service === undefined ? {} : { service }), ...(name === undefined ? {} : { method: name }) };
    }
    return { ...(method ? { method } : {}), headers: readValueMatches(r, m, 'headers', path, true) };
  });
  return { matches, filters: readFilters(r, item, p), backendRefs: readHttpBackendRefs(r, item, p) };
}

export function readGRPCRoute(r: Reporter, object: Obj, located: Located): GRPCRoute {
  const s = routeSpec(r, object);
  const rules = readObjList(r, s, 'rules', 'spec').map(({ item, path }) => readGrpcRule(r, item, path));
  for (const [i, rule] of rules.entries()) {
    const bad = rule.filters.find((f) => f.type === 'RequestRedirect' || f.type === 'URLRewrite');
    if (bad) r.notSupported(`spec.rules[${i}].filters.type`, bad.type, ['ResponseHeaderModifier', 'RequestHeaderModifier', 'RequestMirror', 'ExtensionRef']);
  }
  return { kind: 'GRPCRoute', ...located, parentRefs: readParentRefs(r, s), hostnames: readHostnames(r, s), rules };
}
