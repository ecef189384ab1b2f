/**
 * Checks a fault as the API receives it ({type, target, params, for}) against the
 * cluster's objects, and reports every problem at once, each naming its field in the
 * API server's words (`params.fraction: Invalid value: 2: must be from 0 to 1`). Pure: the
 * caller passes what exists.
 */
import { ApiStatusError } from '../errors/index.js';
import { formatDuration, parseDuration } from './duration.js';
import {
  FAULT_TYPES,
  FAULTS_FOR,
  TARGET_KINDS,
  formatTarget,
  type Direction,
  type FaultRequest,
  type FaultSpec,
  type FaultTarget,
  type FaultType,
  type TargetKind,
} from './types.js';

/** The objects a fault may name. */
export interface TargetCatalog {
  readonly nodes: ReadonlySet<string>;
  /** `ns/name`. */
  readonly pods: ReadonlySet<string>;
  /** `ns/name` → its ports and whether it has an LB frontend. */
  readonly services: ReadonlyMap<string, CatalogService>;
  /** `ns/name` → the paths of its rules. */
  readonly ingresses: ReadonlyMap<string, readonly string[]>;
  readonly httpRoutes: ReadonlyMap<string, readonly string[]>;
}

export interface CatalogService {
  readonly ports: readonly { readonly name: string; readonly port: number; readonly nodePort?: number }[];
  /** Type LoadBalancer with a frontend IP. */
  readonly frontend: boolean;
}

interface Issue {
  readonly field: string;
  readonly reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueNotFound';
  readonly message: string;
}

type ParamRule =
  | { readonly kind: 'duration'; readonly required?: boolean; readonly default?: number; readonly min: number; readonly max: number }
  | { readonly kind: 'fraction' }
  | { readonly kind: 'int'; readonly required?: boolean; readonly min: number; readonly max: number }
  | { readonly kind: 'number'; readonly required?: boolean; readonly min: number; readonly max: number }
  | { readonly kind: 'direction'; readonly default: Direction }
  | { readonly kind: 'bool'; readonly default: boolean }
  | { readonly kind: 'port' }
  | { readonly kind: 'path' };

const DAY_MS = 86_400_000;
const TEN_MINUTES_MS = 600_000;
const delay = (required: boolean): ParamRule => ({ kind: 'duration', required, default: 0, min: 0, max: TEN_MINUTES_MS });
const FRACTION: ParamRule = { kind: 'fraction' };
const PORT: ParamRule = { kind: 'port' };
const PATH: ParamRule = { kind: 'path' };
const RATE: ParamRule = { kind: 'number', required: true, min: 0.001, max: 10_000_000 };

/** Each type's params; a param not listed is refused. */
const PARAMS: Readonly<Record<FaultType, Readonly<Record<string, ParamRule>>>> = {
  stop: {},
  'fail-probes': {},
  drain: {},
  partition: {},
  slow: { delay: delay(true), jitter: delay(false) },
  unready: {},
  crash: { restartAfter: { kind: 'duration', default: 10_000, min: 0, max: DAY_MS } },
  'slow-start': { delay: delay(true), window: { kind: 'duration', default: 30_000, min: 1, max: DAY_MS } },
  hang: {},
  latency: { delay: delay(true), jitter: delay(false), direction: { kind: 'direction', default: 'downstream' }, fraction: FRACTION, port: PORT },
  bandwidth: { rate: RATE, direction: { kind: 'direction', default: 'downstream' }, fraction: FRACTION, port: PORT },
  reset: { fraction: FRACTION, port: PORT },
  blackhole: { fraction: FRACTION, port: PORT },
  'close-after': {
    bytes: { kind: 'int', required: true, min: 0, max: 2 ** 50 },
    direction: { kind: 'direction', default: 'downstream' },
    fraction: FRACTION,
    port: PORT,
  },
  'idle-timeout': {
    timeout: { kind: 'duration', required: true, min: 1, max: DAY_MS },
    tcpReset: { kind: 'bool', default: true },
    fraction: FRACTION,
    port: PORT,
  },
  'snat-exhaustion': { ports: { kind: 'int', required: true, min: 0, max: 65_535 }, fraction: FRACTION, port: PORT },
  status: { code: { kind: 'int', required: true, min: 200, max: 599 }, fraction: FRACTION, first: { kind: 'int', min: 1, max: 1_000_000 }, path: PATH },
  delay: { delay: delay(true), fraction: FRACTION, path: PATH },
  abort: { fraction: FRACTION, path: PATH },
  'slow-body': { rate: RATE, fraction: FRACTION, path: PATH },
};

/** Toxiproxy's name for the fraction of connections a toxic takes. */
const ALIASES: Readonly<Record<string, string>> = { toxicity: 'fraction' };

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function invalid(field: string, value: unknown, detail: string): Issue {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${describe(value)}: ${detail}` };
}

function required(field: string): Issue {
  return { field, reason: 'FieldValueRequired', message: 'Required value' };
}

function notSupported(field: string, value: unknown, supported: readonly (string | number)[]): Issue {
  return {
    field,
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${describe(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  };
}

/** kubectl's short and plural names for the kinds a target names. */
const KIND_ALIASES: Readonly<Record<string, TargetKind>> = {
  no: 'node',
  nodes: 'node',
  po: 'pod',
  pods: 'pod',
  svc: 'service',
  services: 'service',
  ing: 'ingress',
  ingresses: 'ingress',
  httproutes: 'httproute',
};

/** `KIND/NS/NAME`, `node/NAME`, or `KIND/NAME` in namespace default; KIND as kubectl spells it too (svc, po, no, ing). */
export function parseTarget(value: unknown, issues: Issue[]): FaultTarget | undefined {
  if (value === undefined || value === null || value === '') {
    issues.push(required('target'));
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push(invalid('target', value, 'must be a string KIND/NAMESPACE/NAME'));
    return undefined;
  }
  const parts = value.split('/');
  const kind = KIND_ALIASES[parts[0]!.toLowerCase()] ?? parts[0]!.toLowerCase();
  if (!(TARGET_KINDS as readonly string[]).includes(kind)) {
    issues.push(
      notSupported(
        'target',
        value,
        TARGET_KINDS.map((k) => (k === 'node' ? 'node/NAME' : `${k}/NAMESPACE/NAME`)),
      ),
    );
    return undefined;
  }
  const k = kind as TargetKind;
  const rest = parts.slice(1);
  if (k === 'node' ? rest.length !== 1 : rest.length < 1 || rest.length > 2) {
    issues.push(invalid('target', value, k === 'node' ? 'a node is named node/NAME' : `must be ${k}/NAMESPACE/NAME`));
    return undefined;
  }
  if (rest.some((p) => p === '')) {
    issues.push(invalid('target', value, 'a name is empty'));
    return undefined;
  }
  if (k === 'node') return { kind: k, namespace: '', name: rest[0]! };
  return rest.length === 1 ? { kind: k, namespace: 'default', name: rest[0]! } : { kind: k, namespace: rest[0]!, name: rest[1]! };
}

/** What a fault's params are checked against: the Service's ports, or the rule paths of an Ingress or HTTPRoute. */
interface TargetFacts {
  readonly service?: CatalogService;
  readonly paths?: readonly string[];
}

function targetExists(target: FaultTarget, catalog: TargetCatalog, issues: Issue[]): TargetFacts {
  const key = `${target.namespace}/${target.name}`;
  const shown = formatTarget(target);
  const missing = (detail?: string) =>
    issues.push({ field: 'target', reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(shown)}${detail ? `: ${detail}` : ''}` });
  switch (target.kind) {
    case 'node':
      if (!catalog.nodes.has(target.name)) missing(`no node "${target.name}"; nodes: ${[...catalog.nodes].join(', ')}`);
      return {};
    case 'pod':
      if (!catalog.pods.has(key)) missing(`pods "${target.name}" not found in namespace "${target.namespace}"`);
      return {};
    case 'ingress': {
      const paths = catalog.ingresses.get(key);
      if (paths === undefined) missing(`ingresses "${target.name}" not found in namespace "${target.namespace}"`);
      return paths === undefined ? {} : { paths };
    }
    case 'httproute': {
      const paths = catalog.httpRoutes.get(key);
      if (paths === undefined) missing(`httproutes "${target.name}" not found in namespace "${target.namespace}"`);
      return paths === undefined ? {} : { paths };
    }
    case 'service':
    case 'frontend':
    case 'nodeport': {
      const service = catalog.services.get(key);
      if (service === undefined) missing(`services "${target.name}" not found in namespace "${target.namespace}"`);
      else if (target.kind === 'frontend' && !service.frontend) missing('the Service has no load balancer frontend (type LoadBalancer with an EXTERNAL-IP)');
      else if (target.kind === 'nodeport' && !service.ports.some((p) => p.nodePort !== undefined)) missing('the Service has no NodePort');
      return service === undefined ? {} : { service };
    }
  }
}

function readParam(field: string, rule: ParamRule, value: unknown, issues: Issue[], facts: TargetFacts): unknown {
  const service = facts.service;
  switch (rule.kind) {
    case 'duration': {
      if (value === undefined) {
        if (rule.required) issues.push(required(field));
        return rule.default;
      }
      const ms = parseDuration(value);
      if (ms === undefined) issues.push(invalid(field, value, 'must be a duration such as 200ms, 1.5s or 2m (a bare number is milliseconds)'));
      else if (ms < rule.min || ms > rule.max) issues.push(invalid(field, value, `must be from ${formatDuration(rule.min)} to ${formatDuration(rule.max)}`));
      else return ms;
      return undefined;
    }
    case 'fraction': {
      if (value === undefined) return 1;
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) issues.push(invalid(field, value, 'must be a number from 0 to 1'));
      else return n;
      return undefined;
    }
    case 'int':
    case 'number': {
      if (value === undefined) {
        if (rule.required) issues.push(required(field));
        return undefined;
      }
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      const whole = rule.kind === 'int';
      if (typeof n !== 'number' || !Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < rule.min || n > rule.max) {
        issues.push(invalid(field, value, `must be a ${whole ? 'whole number' : 'number'} from ${rule.min} to ${rule.max}`));
        return undefined;
      }
      return n;
    }
    case 'direction': {
      if (value === undefined) return rule.default;
      if (value !== 'upstream' && value !== 'downstream' && value !== 'both') {
        issues.push(notSupported(field, value, ['upstream', 'downstream', 'both']));
        return undefined;
      }
      return value;
    }
    case 'bool': {
      if (value === undefined) return rule.default;
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      issues.push(invalid(field, value, 'must be true or false'));
      return undefined;
    }
    case 'port': {
      if (value === undefined) return undefined;
      const asNumber = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof asNumber !== 'string' && typeof asNumber !== 'number') {
        issues.push(invalid(field, value, 'must be a Service port name or number'));
        return undefined;
      }
      if (service !== undefined && !service.ports.some((p) => p.name === asNumber || p.port === asNumber)) {
        issues.push(
          notSupported(
            field,
            value,
            service.ports.flatMap((p) => (p.name === '' ? [p.port] : [p.port, p.name])),
          ),
        );
        return undefined;
      }
      return asNumber;
    }
    case 'path': {
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !value.startsWith('/')) {
        issues.push(invalid(field, value, 'must be the path of one of the rules, starting with /'));
        return undefined;
      }
      if (facts.paths !== undefined && !facts.paths.includes(value)) {
        issues.push(notSupported(field, value, facts.paths));
        return undefined;
      }
      return value;
    }
  }
}

/** The API's body → a validated fault; throws a 422 Status naming every bad field. */
export function validateFault(body: unknown, catalog: TargetCatalog): FaultRequest {
  const issues: Issue[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiStatusError('BadRequest', 'body must be a JSON object {"type": ..., "target": "KIND/NAMESPACE/NAME", "params": {...}, "for": "30s"}');
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!['type', 'target', 'params', 'for'].includes(key)) issues.push({ field: key, reason: 'FieldValueNotSupported', message: `unknown field "${key}"` });
  }
  const type = input.type;
  let faultType: FaultType | undefined;
  if (type === undefined || type === '') issues.push(required('type'));
  else if (typeof type !== 'string' || !(FAULT_TYPES as readonly string[]).includes(type)) issues.push(notSupported('type', type, FAULT_TYPES));
  else faultType = type as FaultType;

  const target = parseTarget(input.target, issues);
  if (target !== undefined && faultType !== undefined && !FAULTS_FOR[target.kind].includes(faultType)) {
    issues.push(invalid('type', faultType, `a ${target.kind} takes the fault types ${FAULTS_FOR[target.kind].join(', ')}`));
    faultType = undefined;
  }
  const facts: TargetFacts = target === undefined ? {} : targetExists(target, catalog, issues);

  let forMs: number | undefined;
  if (input.for !== undefined && input.for !== null) {
    forMs = parseDuration(input.for);
    if (forMs === undefined) issues.push(invalid('for', input.for, 'must be a duration such as 30s or 5m'));
    else if (forMs <= 0 || forMs > DAY_MS) {
      issues.push(invalid('for', input.for, 'must be more than 0s and at most 24h'));
      forMs = undefined;
    }
  }

  const rawParams = input.params ?? {};
  const values: Record<string, unknown> = {};
  if (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams)) {
    issues.push(invalid('params', rawParams, 'must be an object'));
  } else if (faultType !== undefined) {
    const rules = PARAMS[faultType];
    const given: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rawParams)) {
      const name = ALIASES[key] ?? key;
      if (!(name in rules)) {
        const known = Object.keys(rules);
        issues.push({
          field: `params.${key}`,
          reason: 'FieldValueNotSupported',
          message: `unknown field "params.${key}": a ${faultType} fault takes ${known.length === 0 ? 'no params' : known.join(', ')}`,
        });
      } else given[name] = value;
    }
    for (const [name, rule] of Object.entries(rules)) {
      const value = readParam(`params.${name}`, rule, given[name], issues, facts);
      if (value !== undefined) values[name] = value;
    }
    if (faultType === 'status' && given.first !== undefined && given.fraction !== undefined) {
      issues.push(invalid('params.first', given.first, 'give either first or fraction, not both'));
    }
  }

  if (issues.length > 0 || faultType === undefined || target === undefined) {
    const list = issues.map((i) => `${i.field}: ${i.message}`);
    throw new ApiStatusError(
      'Invalid',
      `Fault ${JSON.stringify(typeof input.target === 'string' ? input.target : '')} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`,
      { kind: 'Fault', causes: issues.map((i) => ({ reason: i.reason, message: i.message, field: i.field })) },
    );
  }
  const spec = buildSpec(faultType, values);
  return { spec, target, params: shownParams(faultType, values), ...(forMs === undefined ? {} : { forMs }) };
}

function buildSpec(type: FaultType, v: Record<string, unknown>): FaultSpec {
  const num = (k: string) => v[k] as number;
  const port = v.port === undefined ? {} : { port: v.port as string | number };
  const fraction = (v.fraction as number | undefined) ?? 1;
  const path = v.path === undefined ? {} : { path: v.path as string };
  switch (type) {
    case 'stop':
    case 'fail-probes':
    case 'drain':
    case 'partition':
    case 'unready':
    case 'hang':
      return { type };
    case 'slow':
      return { type, delayMs: num('delay'), jitterMs: num('jitter') };
    case 'crash':
      return { type, restartAfterMs: num('restartAfter') };
    case 'slow-start':
      return { type, delayMs: num('delay'), windowMs: num('window') };
    case 'latency':
      return { type, delayMs: num('delay'), jitterMs: num('jitter'), direction: v.direction as Direction, fraction, ...port };
    case 'bandwidth':
      return { type, rateKBps: num('rate'), direction: v.direction as Direction, fraction, ...port };
    case 'reset':
    case 'blackhole':
      return { type, fraction, ...port };
    case 'close-after':
      return { type, bytes: num('bytes'), direction: v.direction as Direction, fraction, ...port };
    case 'idle-timeout':
      return { type, timeoutMs: num('timeout'), tcpReset: v.tcpReset as boolean, fraction, ...port };
    case 'snat-exhaustion':
      return { type, ports: num('ports'), fraction, ...port };
    case 'status':
      return v.first === undefined ? { type, code: num('code'), fraction, ...path } : { type, code: num('code'), fraction: 1, first: num('first'), ...path };
    case 'delay':
      return { type, delayMs: num('delay'), fraction, ...path };
    case 'abort':
      return { type, fraction, ...path };
    case 'slow-body':
      return { type, rateKBps: num('rate'), fraction, ...path };
  }
}

/** Params as shown back: durations spelled, defaults filled in. */
function shownParams(type: FaultType, values: Record<string, unknown>): Record<string, string | number | boolean> {
  const rules = PARAMS[type];
  const shown: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(values)) {
    if (type === 'status' && name === 'fraction' && values.first !== undefined) continue;
    shown[name] = rules[name]?.kind === 'duration' ? formatDuration(value as number) : (value as string | number | boolean);
  }
  return shown;
}
