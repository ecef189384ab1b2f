/**
 * From parsed objects to the normalised Manifests: check each document is a Kubernetes
 * object, unfold Lists, route each kind to its reader, note skipped kinds, and collect
 * every field error of every object before failing once (a bad set starts nothing).
 */
import { AksEmuError, ManifestInvalidError, type FieldError } from '../errors/index.js';
import type {
  EndpointSlice,
  Ingress,
  IngressClass,
  Manifests,
  Namespace,
  Secret,
  ConfigMap,
  Service,
  SkippedObject,
  Source,
  Workload,
} from '../model/types.js';
import { parseCIDR } from './ip.js';
import { HANDLED_KINDS, isHandledKind, type HandledKind } from './kind-table.js';
import { peekIdentity, readMeta } from './meta.js';
import { isObj, type Obj } from './read.js';
import { Reporter } from './reporter.js';
import { readEndpoints, readEndpointSlice, SERVICE_NAME_LABEL, type DialableRanges } from './kinds/endpoints.js';
import { readIngress, readIngressClass } from './kinds/ingress.js';
import type { Located } from './kinds/located.js';
import { readSecret } from './kinds/secret.js';
import { readConfigMap } from './kinds/config-map.js';
import { readService } from './kinds/service.js';
import { readGateway, readGatewayClass, readReferenceGrant } from './kinds/gateway.js';
import { readGRPCRoute, readHTTPRoute } from './kinds/http-route.js';
import { readTCPRoute, readTLSRoute } from './kinds/tcp-route.js';
import type { GatewayClass, Gateway, GRPCRoute, HTTPRoute, ReferenceGrant, TCPRoute, TLSRoute } from '../model/gateway-types.js';
import { readController, readReplicationController, readPod } from './kinds/workload.js';
import { defaultNamespace } from './namespace.js';
import { checkUnknownFields, type FieldValidation } from './validation/unknown-fields.js';
import { readNetworkPolicy } from './kinds/network-policy.js';
import type { NetworkPolicy } from '../model/network-policy.js';

export interface ManifestOptions {
  /**
   * Where endpoint addresses written in EndpointSlices / Endpoints may point: the
   * ranges the runtime can dial. Default ['127.0.0.0/8'] (the embedded runtime).
   */
  readonly allowedEndpointCIDRs?: readonly string[];
  /** Largest manifest file (or in-memory text) in bytes; default 16 MiB. */
  readonly maxFileBytes?: number;
  /** Largest total of one load in bytes; default four times maxFileBytes. */
  readonly maxTotalBytes?: number;
  /**
   * Fields the kind's schema does not have: an error (Strict, what kubectl asks for by
   * default), a `warning:` notice (Warn) or nothing (Ignore). Default Strict.
   */
  readonly fieldValidation?: FieldValidation;
  /** The namespace of objects that name none (`kubectl apply -n`); default `default`. */
  readonly namespace?: string;
  /**
   * What earlier builds made of frozen objects they read cleanly: an object read again at
   * the same file and document, with the same options, is taken from here instead of being
   * read anew (the object store validates every write with the whole set, of which one
   * object changed).
   */
  readonly reuse?: ParsedObjects;
}

/** The lists of Manifests that hold objects (mergeLoadResults merges these, with `skipped`). */
export const MANIFEST_LISTS = [
  'services',
  'workloads',
  'endpointSlices',
  'secrets',
  'configMaps',
  'namespaces',
  'ingresses',
  'ingressClasses',
  'networkPolicies',
] as const;

const GATEWAY_LISTS = ['gatewayClasses', 'gateways', 'httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes', 'referenceGrants'] as const;

/** The builder's lists an object's reading can add to. */
type ListName = (typeof MANIFEST_LISTS)[number] | (typeof GATEWAY_LISTS)[number];

/** What reading one object added, when it added no error, notice or skip. */
interface CleanRead {
  readonly file: string;
  readonly doc: number;
  readonly options: string;
  readonly located: Located;
  readonly kind: HandledKind;
  readonly added: readonly { readonly list: ListName; readonly items: readonly unknown[] }[];
}

/**
 * Clean reads of frozen objects, kept per object (a WeakMap: an object the store no longer
 * holds goes with it). Only reads that reported nothing are kept, so a reused read adds
 * exactly the items a fresh one would and every error is still reported by a fresh read;
 * the duplicate check, which depends on the other objects, runs for every object.
 */
export class ParsedObjects {
  readonly #reads = new WeakMap<object, CleanRead>();

  /** @internal */
  get(object: object, source: Source, options: string): CleanRead | undefined {
    const read = this.#reads.get(object);
    return read !== undefined && read.file === source.file && read.doc === source.doc && read.options === options ? read : undefined;
  }

  /** @internal */
  set(object: object, read: CleanRead): void {
    this.#reads.set(object, read);
  }

  /**
   * `next` replaces `previous` in its place with another status only (a controller's status
   * write, which the store stores with a new resourceVersion): the kept read of `previous`
   * is `next`'s as well, for reads that ignore unknown fields (the kinds' readers never read
   * `status`, nor metadata beyond name, namespace, labels, annotations and uid). Anything
   * else about `next` differing, or `next` not frozen, keeps nothing.
   */
  carry(previous: object, next: object): void {
    const read = this.#reads.get(previous);
    if (read === undefined || !Object.isFrozen(next) || read.options !== IGNORING_UNKNOWN_FIELDS) return;
    if (sameExceptStatus(previous as Obj, next as Obj)) this.#reads.set(next, read);
  }
}

/** The options key of reads with fieldValidation Ignore and no other option (the object store's). */
const IGNORING_UNKNOWN_FIELDS = readOptionsKey({ fieldValidation: 'Ignore' });

function readOptionsKey(options: ManifestOptions): string {
  return JSON.stringify([options.fieldValidation ?? 'Strict', options.allowedEndpointCIDRs ?? null, options.namespace ?? null]);
}

/** The metadata fields a read looks at. */
const READ_METADATA = ['name', 'namespace', 'labels', 'annotations', 'uid'] as const;

/** The same fields (the same values, by reference) apart from `status` and metadata no reader looks at. */
function sameExceptStatus(a: Obj, b: Obj): boolean {
  const keys = (o: Obj) => Object.keys(o).filter((k) => k !== 'status');
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length || ka.some((k) => k !== 'metadata' && a[k] !== b[k]) || kb.some((k) => !(k in a))) return false;
  const ma = a['metadata'];
  const mb = b['metadata'];
  if (ma === mb) return true;
  return isObj(ma) && isObj(mb) && READ_METADATA.every((k) => ma[k] === mb[k]);
}

export interface LoadResult {
  manifests: Manifests;
  /** One line per skipped object, naming file, document, kind and name. */
  notices: string[];
}

export interface RawObject {
  readonly file: string;
  readonly doc: number;
  readonly object: unknown;
}

interface Envelope {
  readonly source: Source;
  readonly apiVersion: string;
  readonly kind: string;
  readonly object: Obj;
}

const where = (s: Source): string => `${s.file} (document ${s.doc})`;

/** Documents that are not Kubernetes objects are parse errors, as kubectl reports them before sending anything. */
function toEnvelopes(raw: RawObject, parseErrors: string[], out: { envelope: Envelope; raw: unknown }[], at = ''): void {
  const source: Source = { file: raw.file, doc: raw.doc };
  const { object } = raw;
  if (!isObj(object)) {
    const got = Array.isArray(object) ? 'a list' : `a ${typeof object}`;
    parseErrors.push(`${where(source)}${at}: not a Kubernetes object: expected a mapping with apiVersion and kind, got ${got}`);
    return;
  }
  const { apiVersion, kind } = object;
  const missing = [
    ...(typeof apiVersion === 'string' && apiVersion !== '' ? [] : ['apiVersion not set']),
    ...(typeof kind === 'string' && kind !== '' ? [] : ['kind not set']),
  ];
  if (missing.length > 0 || typeof apiVersion !== 'string' || typeof kind !== 'string') {
    parseErrors.push(`${where(source)}${at}: error validating data: [${missing.join(', ')}]`);
    return;
  }
  // kubectl unfolds `kind: List` (and typed lists such as ServiceList) into their items.
  if (kind.endsWith('List') && Array.isArray(object['items'])) {
    object['items'].forEach((item, i) => toEnvelopes({ ...raw, object: item }, parseErrors, out, `${at} items[${i}]`));
    return;
  }
  out.push({ envelope: { source, apiVersion, kind, object }, raw: raw.object });
}

function dialableRanges(options: ManifestOptions): DialableRanges {
  const texts = options.allowedEndpointCIDRs ?? ['127.0.0.0/8'];
  const cidrs = texts.map((text) => {
    const cidr = parseCIDR(text);
    if (cidr === undefined) throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `allowedEndpointCIDRs: "${text}" is not an IPv4 CIDR`);
    return cidr;
  });
  const detail = options.allowedEndpointCIDRs === undefined ? "aks-emu's embedded runtime only dials 127.0.0.0/8" : `aks-emu only dials ${texts.join(', ')}`;
  return { cidrs, detail };
}

class ManifestsBuilder {
  readonly services: Service[] = [];
  readonly workloads: Workload[] = [];
  readonly endpointSlices: EndpointSlice[] = [];
  readonly secrets: Secret[] = [];
  readonly configMaps: ConfigMap[] = [];
  readonly namespaces: Namespace[] = [];
  readonly ingresses: Ingress[] = [];
  readonly ingressClasses: IngressClass[] = [];
  readonly networkPolicies: NetworkPolicy[] = [];
  readonly gatewayApi = {
    gatewayClasses: [] as GatewayClass[],
    gateways: [] as Gateway[],
    httpRoutes: [] as HTTPRoute[],
    grpcRoutes: [] as GRPCRoute[],
    tcpRoutes: [] as TCPRoute[],
    tlsRoutes: [] as TLSRoute[],
    referenceGrants: [] as ReferenceGrant[],
  };
  readonly skipped: SkippedObject[] = [];
  readonly notices: string[] = [];
  readonly errors: FieldError[] = [];
  readonly #seen = new Map<string, Source>();

  constructor(
    private readonly dialable: DialableRanges,
    private readonly fieldValidation: FieldValidation,
    private readonly reuse?: { readonly cache: ParsedObjects; readonly options: string },
  ) {}

  #list(name: ListName): unknown[] {
    switch (name) {
      case 'gatewayClasses':
      case 'gateways':
      case 'httpRoutes':
      case 'grpcRoutes':
      case 'tcpRoutes':
      case 'tlsRoutes':
      case 'referenceGrants':
        return this.gatewayApi[name];
      default:
        return this[name];
    }
  }

  static readonly #lists: readonly ListName[] = [...MANIFEST_LISTS, ...GATEWAY_LISTS];

  /** add(), or what an earlier clean read of the same frozen object added (`reuse`). */
  addFrom(e: Envelope, raw: unknown): void {
    const reuse = this.reuse;
    if (reuse === undefined || raw !== e.object || !Object.isFrozen(raw)) {
      this.add(e);
      return;
    }
    const kept = reuse.cache.get(raw, e.source, reuse.options);
    if (kept !== undefined) {
      const { name, namespace } = peekIdentity(e.object, e.kind);
      const r = new Reporter(this.errors, e.source, kept.kind, name, namespace || undefined);
      this.checkDuplicate(r, kept.kind, kept.located);
      for (const { list, items } of kept.added) this.#list(list).push(...items);
      return;
    }
    const lengths = ManifestsBuilder.#lists.map((name) => this.#list(name).length);
    const before = { errors: this.errors.length, notices: this.notices.length, skipped: this.skipped.length };
    const located = this.add(e);
    if (located === undefined || !isHandledKind(e.kind)) return;
    if (this.errors.length !== before.errors || this.notices.length !== before.notices || this.skipped.length !== before.skipped) return;
    const added = ManifestsBuilder.#lists.flatMap((list, i) => {
      const items = this.#list(list).slice(lengths[i]);
      return items.length > 0 ? [{ list, items }] : [];
    });
    reuse.cache.set(raw, { file: e.source.file, doc: e.source.doc, options: reuse.options, located, kind: e.kind, added });
  }

  /** Reads one object into the lists; returns its identity once it got that far. */
  add(e: Envelope): Located | undefined {
    const { name, namespace } = peekIdentity(e.object, e.kind);
    if (!isHandledKind(e.kind)) {
      this.skip(e, name, namespace, 'kind does not shape traffic');
      return undefined;
    }
    const r = new Reporter(this.errors, e.source, e.kind, name, namespace || undefined);
    if (HANDLED_KINDS[e.kind].apiVersion !== e.apiVersion) {
      r.invalid('apiVersion', e.apiVersion, `no matches for kind "${e.kind}" in version "${e.apiVersion}"`);
      return undefined;
    }
    checkUnknownFields(r, e, this.fieldValidation, (line) => this.notices.push(line), where(e.source));
    const located: Located = { source: e.source, metadata: readMeta(r, e.object, e.kind) };
    this.checkDuplicate(r, e.kind, located);
    this.route(r, e, e.kind, located);
    return located;
  }

  /** Two objects of one kind and name in one namespace: the second would fail with AlreadyExists. */
  private checkDuplicate(r: Reporter, kind: HandledKind, { source, metadata }: Located): void {
    if (metadata.name === '') return;
    const key = `${kind}/${metadata.namespace}/${metadata.name}`;
    const first = this.#seen.get(key);
    if (first === undefined) {
      this.#seen.set(key, source);
      return;
    }
    const resource = HANDLED_KINDS[kind].resource;
    r.invalid('metadata.name', metadata.name, `${resource} "${metadata.name}" already exists (also defined in ${where(first)})`);
  }

  private route(r: Reporter, e: Envelope, kind: HandledKind, located: Located): void {
    const o = e.object;
    switch (kind) {
      case 'Service':
        this.services.push(readService(r, o, located));
        break;
      case 'Pod':
        this.workloads.push(readPod(r, o, located));
        break;
      case 'Deployment':
      case 'StatefulSet':
      case 'ReplicaSet':
      case 'DaemonSet':
        this.workloads.push(readController(r, o, located, kind));
        break;
      case 'ReplicationController':
        this.workloads.push(readReplicationController(r, o, located));
        break;
      case 'EndpointSlice': {
        const slice = readEndpointSlice(r, o, located, this.dialable);
        if (slice) this.endpointSlices.push(slice);
        else this.skip(e, located.metadata.name, located.metadata.namespace, `no ${SERVICE_NAME_LABEL} label, so no Service uses it`);
        break;
      }
      case 'Endpoints':
        this.endpointSlices.push(...readEndpoints(r, o, located, this.dialable));
        break;
      case 'Secret':
        this.secrets.push(readSecret(r, o, located));
        break;
      case 'ConfigMap':
        this.configMaps.push(readConfigMap(r, o, located));
        break;
      case 'Namespace':
        this.namespaces.push({ kind: 'Namespace', ...located });
        break;
      case 'Ingress':
        this.ingresses.push(readIngress(r, o, located));
        break;
      case 'IngressClass':
        this.ingressClasses.push(readIngressClass(r, o, located));
        break;
      case 'NetworkPolicy':
        this.networkPolicies.push(readNetworkPolicy(r, o, located));
        break;
      case 'GatewayClass':
        this.gatewayApi.gatewayClasses.push(readGatewayClass(r, o, located));
        break;
      case 'Gateway':
        this.gatewayApi.gateways.push(readGateway(r, o, located));
        break;
      case 'HTTPRoute':
        this.gatewayApi.httpRoutes.push(readHTTPRoute(r, o, located));
        break;
      case 'GRPCRoute':
        this.gatewayApi.grpcRoutes.push(readGRPCRoute(r, o, located));
        break;
      case 'TCPRoute':
        this.gatewayApi.tcpRoutes.push(readTCPRoute(r, o, located));
        break;
      case 'TLSRoute':
        this.gatewayApi.tlsRoutes.push(readTLSRoute(r, o, located));
        break;
      case 'ReferenceGrant':
        this.gatewayApi.referenceGrants.push(readReferenceGrant(r, o, located));
        break;
    }
  }

  private skip(e: Envelope, name: string, namespace: string, why: string): void {
    this.skipped.push({ source: e.source, apiVersion: e.apiVersion, kind: e.kind, name, namespace });
    this.notices.push(`${where(e.source)}: skipping ${e.kind} "${name}": ${why}`);
  }

  result(): LoadResult {
    const { services, workloads, endpointSlices, secrets, configMaps, namespaces, ingresses, ingressClasses, skipped } = this;
    const gatewayApi = Object.values(this.gatewayApi).some((list) => list.length > 0) ? { gatewayApi: this.gatewayApi } : {};
    const networkPolicies = this.networkPolicies.length > 0 ? { networkPolicies: this.networkPolicies } : {};
    const manifests = {
      services,
      workloads,
      endpointSlices,
      secrets,
      configMaps,
      namespaces,
      ingresses,
      ingressClasses,
      ...gatewayApi,
      ...networkPolicies,
      skipped,
    };
    if (this.errors.length > 0) {
      const unidentified = this.errors.filter((e) => e.field === 'metadata.name' || e.field.startsWith('metadata.namespace'));
      throw new ManifestInvalidError(this.errors, without(manifests, this.errors), without(manifests, unidentified));
    }
    return { manifests, notices: this.notices };
  }
}

/** The objects none of `errors` names (by file and document), for stages that check what remains. */
function without(m: Manifests, errors: readonly FieldError[]): Manifests {
  const bad = new Set(errors.map((e) => `${e.source.file}#${e.source.doc}#${e.kind}#${e.name}`));
  const ok = <T extends { source: { file: string; doc: number }; kind: string; metadata: { name: string } }>(items: readonly T[]) =>
    items.filter((o) => !bad.has(`${o.source.file}#${o.source.doc}#${o.kind}#${o.metadata.name}`));
  return {
    services: ok(m.services),
    workloads: ok(m.workloads),
    endpointSlices: ok(m.endpointSlices),
    secrets: ok(m.secrets),
    configMaps: ok(m.configMaps ?? []),
    namespaces: ok(m.namespaces),
    ingresses: ok(m.ingresses),
    ingressClasses: ok(m.ingressClasses),
    ...(m.networkPolicies ? { networkPolicies: ok(m.networkPolicies) } : {}),
    ...(m.gatewayApi
      ? {
          gatewayApi: {
            gatewayClasses: ok(m.gatewayApi.gatewayClasses),
            gateways: ok(m.gatewayApi.gateways),
            httpRoutes: ok(m.gatewayApi.httpRoutes),
            grpcRoutes: ok(m.gatewayApi.grpcRoutes),
            tcpRoutes: ok(m.gatewayApi.tcpRoutes ?? []),
            tlsRoutes: ok(m.gatewayApi.tlsRoutes ?? []),
            referenceGrants: ok(m.gatewayApi.referenceGrants),
          },
        }
      : {}),
    skipped: m.skipped,
  };
}

/**
 * Parsed objects → Manifests. `parseErrors` carries errors of earlier stages (YAML
 * syntax); they and documents that are not objects fail the whole set with one
 * AKS_EMU_MANIFEST_PARSE error before any object is validated.
 */
export function buildManifests(objects: readonly RawObject[], options: ManifestOptions = {}, parseErrors: string[] = []): LoadResult {
  const envelopes: { envelope: Envelope; raw: unknown }[] = [];
  for (const raw of defaultNamespace(objects, options.namespace, parseErrors)) toEnvelopes(raw, parseErrors, envelopes);
  if (parseErrors.length > 0) throw new AksEmuError('AKS_EMU_MANIFEST_PARSE', parseErrors.join('\n'));
  const fieldValidation = options.fieldValidation ?? 'Strict';
  // A kept read is valid for the options it was read with (the object's own identity and place are checked per object).
  const reuse = options.reuse && {
    cache: options.reuse,
    options: readOptionsKey(options),
  };
  const builder = new ManifestsBuilder(dialableRanges(options), fieldValidation, reuse);
  for (const { envelope, raw } of envelopes) builder.addFrom(envelope, raw);
  return builder.result();
}
