/**
 * gateway.networking.k8s.io GatewayClass, Gateway and ReferenceGrant, checked as the
 * Gateway API CRDs' OpenAPI schema and CEL rules check them (the API server rejects what
 * these reject, with the CRDs' own messages). What a controller makes of a valid object
 * (Accepted, Programmed, ResolvedRefs) is the control plane's business.
 */
import type {
  FromNamespaces,
  Gateway,
  GatewayClass,
  LabelSelector,
  Listener,
  ListenerProtocol,
  ObjectReference,
  ReferenceGrant,
} from '../../model/gateway-types.js';
import { readInt, readObj, readObjList, readString, readStringList, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isValidPortNum } from '../validation/names.js';
import type { Located } from './located.js';

/** The CRDs' Hostname pattern: lower case, an optional leading `*.` label. */
export const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const HOSTNAME = new RegExp(HOSTNAME_PATTERN);
const CONTROLLER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROTOCOLS: readonly ListenerProtocol[] = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'];
const FROM: readonly FromNamespaces[] = ['All', 'Selector', 'Same'];

/** `spec.x in body should match '<pattern>'`: the API server's words for a pattern mismatch. */
export function patternMismatch(r: Reporter, field: string, value: string, pattern: RegExp, source: string): boolean {
  if (pattern.test(value)) return true;
  r.invalid(field, value, `${field} in body should match '${source}'`);
  return false;
}

export function checkHostname(r: Reporter, field: string, value: string): void {
  if (value.length > 253) r.invalid(field, value, `${field} in body should be at most 253 chars long`);
  else patternMismatch(r, field, value, HOSTNAME, HOSTNAME_PATTERN);
}

function spec(r: Reporter, object: Obj): Obj {
  const s = readObj(r, object, 'spec', '');
  if (s === undefined) r.required('spec');
  return s ?? {};
}

export function readGatewayClass(r: Reporter, object: Obj, located: Located): GatewayClass {
  const s = spec(r, object);
  const controllerName = readString(r, s, 'controllerName', 'spec') ?? '';
  if (controllerName === '') r.required('spec.controllerName');
  else patternMismatch(r, 'spec.controllerName', controllerName, CONTROLLER_NAME, CONTROLLER_NAME.source);
  const description = readString(r, s, 'description', 'spec');
  return { kind: 'GatewayClass', ...located, controllerName, ...(description === undefined ? {} : { description }) };
}

export function readSelector(r: Reporter, o: Obj, path: string): LabelSelector {
  const matchLabels = readStringMap(r, o, 'matchLabels', path) ?? {};
  const matchExpressions = readObjList(r, o, 'matchExpressions', path).map(({ item, path: p }) => {
    const key = readString(r, item, 'key', p) ?? '';
    const operator = readString(r, item, 'operator', p) ?? '';
    const ops = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
    if (!ops.includes(operator)) r.notSupported(`${p}.operator`, operator, ops);
    return { key, operator, values: readStringList(r, item, 'values', p) };
  });
  return { matchLabels, matchExpressions };
}

/** A certificateRef, backendRef or parentRef's shared part; `defaultKind` is the CRD default. */
export function readReference(r: Reporter, o: Obj, path: string, defaultGroup: string, defaultKind: string): ObjectReference {
  const name = readString(r, o, 'name', path) ?? '';
  if (name === '') r.required(`${path}.name`);
  const namespace = readString(r, o, 'namespace', path);
  return {
    group: readString(r, o, 'group', path) ?? defaultGroup,
    kind: readString(r, o, 'kind', path) ?? defaultKind,
    name,
    ...(namespace === undefined ? {} : { namespace }),
  };
}

function readListener(r: Reporter, item: Obj, p: string): Listener {
  const name = readString(r, item, 'name', p) ?? '';
  if (name === '') r.required(`${p}.name`);
  else patternMismatch(r, `${p}.name`, name, SECTION_NAME, SECTION_NAME.source);
  const port = readInt(r, item, 'port', p) ?? 0;
  if (port === 0 && item['port'] === undefined) r.required(`${p}.port`);
  else r.invalidEach(`${p}.port`, port, isValidPortNum(port));
  const rawProtocol = readString(r, item, 'protocol', p) ?? '';
  if (rawProtocol === '') r.required(`${p}.protocol`);
  const protocol = (PROTOCOLS as readonly string[]).includes(rawProtocol) ? (rawProtocol as ListenerProtocol) : 'HTTP';
  const hostname = readString(r, item, 'hostname', p);
  if (hostname !== undefined) checkHostname(r, `${p}.hostname`, hostname);
  if (hostname !== undefined && (protocol === 'TCP' || protocol === 'UDP')) {
    r.invalid(p, hostname, "hostname must not be specified for protocols ['TCP', 'UDP']");
  }
  const tlsObj = readObj(r, item, 'tls', p);
  let tls: Listener['tls'];
  if (tlsObj) {
    if (protocol === 'HTTP' || protocol === 'TCP' || protocol === 'UDP') r.invalid(p, 'tls', "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']");
    const mode = readString(r, tlsObj, 'mode', `${p}.tls`) ?? 'Terminate';
    if (mode !== 'Terminate' && mode !== 'Passthrough') r.notSupported(`${p}.tls.mode`, mode, ['Passthrough', 'Terminate']);
    const certificateRefs = readObjList(r, tlsObj, 'certificateRefs', `${p}.tls`).map(({ item: ref, path: rp }) => readReference(r, ref, rp, '', 'Secret'));
    if (mode === 'Terminate' && certificateRefs.length === 0 && readObj(r, tlsObj, 'options', `${p}.tls`) === undefined) {
      r.invalid(`${p}.tls`, 'Terminate', 'certificateRefs or options must be specified when mode is Terminate');
    }
    tls = { mode: mode === 'Passthrough' ? 'Passthrough' : 'Terminate', certificateRefs };
  } else if (protocol === 'HTTPS' || protocol === 'TLS') {
    r.invalid(p, protocol, "tls mode must be set for protocols ['HTTPS', 'TLS']");
  }
  const allowed = readObj(r, item, 'allowedRoutes', p) ?? {};
  const ns = readObj(r, allowed, 'namespaces', `${p}.allowedRoutes`) ?? {};
  const rawFrom = readString(r, ns, 'from', `${p}.allowedRoutes.namespaces`) ?? 'Same';
  if (!(FROM as readonly string[]).includes(rawFrom)) r.notSupported(`${p}.allowedRoutes.namespaces.from`, rawFrom, FROM);
  const from = (FROM as readonly string[]).includes(rawFrom) ? (rawFrom as FromNamespaces) : 'Same';
  const selObj = readObj(r, ns, 'selector', `${p}.allowedRoutes.namespaces`);
  const selector = selObj ? readSelector(r, selObj, `${p}.allowedRoutes.namespaces.selector`) : undefined;
  const kindsList = readObjList(r, allowed, 'kinds', `${p}.allowedRoutes`).map(({ item: k, path: kp }) => ({
    group: readString(r, k, 'group', kp) ?? 'gateway.networking.k8s.io',
    kind: readString(r, k, 'kind', kp) ?? '',
  }));
  const kinds = allowed['kinds'] === undefined ? undefined : kindsList;
  return {
    name,
    ...(hostname === undefined ? {} : { hostname }),
    port,
    protocol,
    ...(tls === undefined ? {} : { tls }),
    allowedRoutes: { from, ...(selector ? { selector } : {}), ...(kinds ? { kinds } : {}) },
  };
}

export function readGateway(r: Reporter, object: Obj, located: Located): Gateway {
  const s = spec(r, object);
  const gatewayClassName = readString(r, s, 'gatewayClassName', 'spec') ?? '';
  if (gatewayClassName === '') r.required('spec.gatewayClassName');
  const items = readObjList(r, s, 'listeners', 'spec');
  if (items.length === 0) r.invalid('spec.listeners', [], 'spec.listeners in body should have at least 1 items');
  if (items.length > 64) r.invalid('spec.listeners', items.length, 'spec.listeners: Too many: must have at most 64 items');
  const listeners = items.map(({ item, path }) => readListener(r, item, path));
  const names = new Set<string>();
  const combos = new Set<string>();
  for (const l of listeners) {
    if (names.has(l.name)) r.invalid('spec.listeners', l.name, 'Listener name must be unique within the Gateway');
    names.add(l.name);
    const combo = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
    if (combos.has(combo)) r.invalid('spec.listeners', combo, 'Combination of port, protocol and hostname must be unique for each listener');
    combos.add(combo);
  }
  const infra = readObj(r, s, 'infrastructure', 'spec') ?? {};
  const addresses = readObjList(r, s, 'addresses', 'spec').map(({ item, path }) => ({
    type: readString(r, item, 'type', path) ?? 'IPAddress',
    value: readString(r, item, 'value', path) ?? '',
  }));
  return {
    kind: 'Gateway',
    ...located,
    gatewayClassName,
    listeners,
    infrastructure: {
      labels: readStringMap(r, infra, 'labels', 'spec.infrastructure') ?? {},
      annotations: readStringMap(r, infra, 'annotations', 'spec.infrastructure') ?? {},
    },
    addresses,
  };
}

export function readReferenceGrant(r: Reporter, object: Obj, located: Located): ReferenceGrant {
  const s = spec(r, object);
  const fromItems = readObjList(r, s, 'from', 'spec');
  const toItems = readObjList(r, s, 'to', 'spec');
  if (fromItems.length === 0) r.invalid('spec.from', [], 'spec.from in body should have at least 1 items');
  if (toItems.length === 0) r.invalid('spec.to', [], 'spec.to in body should have at least 1 items');
  const from = fromItems.map(({ item, path }) => {
    const namespace = readString(r, item, 'namespace', path) ?? '';
    const kind = readString(r, item, 'kind', path) ?? '';
    if (namespace === '') r.required(`${path}.namespace`);
    if (kind === '') r.required(`${path}.kind`);
    return { group: readString(r, item, 'group', path) ?? '', kind, namespace };
  });
  const to = toItems.map(({ item, path }) => {
    const kind = readString(r, item, 'kind', path) ?? '';
    if (kind === '') r.required(`${path}.kind`);
    const name = readString(r, item, 'name', path);
    return { group: readString(r, item, 'group', path) ?? '', kind, ...(name === undefined ? {} : { name }) };
  });
  return { kind: 'ReferenceGrant', ...located, from, to };
}
