/**
 * The `nginx.ingress.kubernetes.io/*` annotations of one Ingress, parsed the way
 * ingress-nginx's annotation parsers do (internal/ingress/annotations/*): booleans as Go's
 * strconv.ParseBool, integers strictly, a bad value falls back to the default and is
 * reported. Every other annotation under the prefix becomes a notice: never silently ignored.
 *
 * A value ingress-nginx's admission webhook refuses (its annotation validators,
 * internal/ingress/annotations/parser/validators.go: ValidateBool, ValidateInt, SizeRegex,
 * ValidateCIDRs, ValidateOptions, ValidateServiceName ..., or a value `nginx -t` refuses,
 * such as a timeout below 1 s) is also a rejection: validate reports every one of them,
 * with the Ingress and the annotation, in one pass.
 */
import { isIP } from 'node:net';
import { objectKey, type Ingress } from '../../model/types.js';
import { compileSafeRegex, UnsafeRegexError } from './safe-regex.js';
import { ANNOTATION_PREFIX, type BackendProtocol, type CanaryPolicy, type CookieAffinity, type LocationConfig, type ProxySettings } from './types.js';

export interface CanaryAnnotations extends Omit<CanaryPolicy, 'ingress'> {
  readonly enabled: boolean;
}

/** The per-location settings come straight from the annotations; the rest is per Ingress. */
export interface IngressAnnotations extends Pick<
  LocationConfig,
  'rewriteTarget' | 'useRegex' | 'sslRedirect' | 'forceSslRedirect' | 'allowSourceRanges' | 'denied' | 'proxy' | 'backendProtocol' | 'customHttpErrors'
> {
  readonly canary: CanaryAnnotations;
  readonly appRoot?: string;
  /** Service name of the `default-backend` annotation (same namespace). */
  readonly defaultBackend?: string;
  readonly affinity?: CookieAffinity;
}

/** ingress-nginx's defaults (internal/ingress/defaults, controller/config NewDefault). */
export const DEFAULT_PROXY: ProxySettings = Object.freeze({
  connectTimeoutMs: 5_000,
  readTimeoutMs: 60_000,
  sendTimeoutMs: 60_000,
  bodySizeLimit: 1024 * 1024,
  nextUpstreamTries: 3,
});

/** What an Ingress without the annotation gets: the controller ConfigMap's values (controller-configmap.ts). */
export interface LocationDefaults {
  readonly proxy: ProxySettings;
  readonly sslRedirect: boolean;
  readonly customHttpErrors: readonly number[];
}

export const DEFAULT_LOCATION: LocationDefaults = Object.freeze({ proxy: DEFAULT_PROXY, sslRedirect: true, customHttpErrors: [] });

export const DEFAULT_AFFINITY_COOKIE = 'INGRESSCOOKIE';

const IMPLEMENTED = new Set([
  'canary',
  'canary-by-header',
  'canary-by-header-value',
  'canary-by-header-pattern',
  'canary-by-cookie',
  'canary-weight',
  'canary-weight-total',
  'whitelist-source-range',
  'allowlist-source-range',
  'custom-http-errors',
  'default-backend',
  'backend-protocol',
  'proxy-body-size',
  'proxy-connect-timeout',
  'proxy-read-timeout',
  'proxy-send-timeout',
  'proxy-next-upstream-tries',
  'affinity',
  'affinity-mode',
  'session-cookie-name',
  'session-cookie-path',
  'session-cookie-max-age',
  'session-cookie-expires',
  'session-cookie-samesite',
  'session-cookie-secure',
  'use-regex',
  'rewrite-target',
  'app-root',
  'ssl-redirect',
  'force-ssl-redirect',
]);

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);
const SIZE = /^(\d+)([kKmMgG]?)$/;
const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const BACKEND_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'GRPC', 'GRPCS', 'AUTO_HTTP', 'FCGI']);

/** nginx size syntax (client_max_body_size): bytes, `k`, `m` or `g`. */
export function parseNginxSize(value: string): number | undefined {
  const m = SIZE.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
}

/** A CIDR or a bare address, IPv4 or IPv6, as nginx's allow directive takes it. */
export function isValidSourceRange(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return isIP(value) !== 0;
  const family = isIP(value.slice(0, slash));
  const bitsText = value.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bitsText)) return false;
  return Number(bitsText) <= (family === 4 ? 32 : 128);
}

/** An annotation value the admission webhook would refuse. */
export interface AnnotationRejection {
  /** The full annotation name (with the prefix). */
  readonly annotation: string;
  readonly value: string;
  readonly problem: string;
}

const SAME_SITE = new Set(['none', 'lax', 'strict']);
/** ValidateServiceName: a DNS-1035 label. */
const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

class Reader {
  readonly notices: string[] = [];
  readonly rejections: AnnotationRejection[] = [];
  readonly #annotations: Readonly<Record<string, string>>;
  readonly #ingress: string;

  constructor(ing: Ingress) {
    this.#annotations = ing.metadata.annotations;
    this.#ingress = objectKey(ing.metadata);
    for (const key of Object.keys(this.#annotations)) {
      if (!key.startsWith(ANNOTATION_PREFIX)) continue;
      const name = key.slice(ANNOTATION_PREFIX.length);
      if (!IMPLEMENTED.has(name)) {
        this.notices.push(`Ingress ${this.#ingress}: annotation ${key} is not implemented by aks-emu and has no effect`);
      }
    }
  }

  string(name: string): string | undefined {
    const value = this.#annotations[ANNOTATION_PREFIX + name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (TRUE_VALUES.has(value)) return true;
    if (FALSE_VALUES.has(value)) return false;
    return this.invalid(name, value, 'not a boolean', fallback, String(fallback));
  }

  int(name: string, fallback: number, min = 0): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (!/^[-+]?\d+$/.test(value) || Number(value) < min) {
      return this.invalid(name, value, `not an integer >= ${min}`, fallback, String(fallback));
    }
    return Number(value);
  }

  /** A value the webhook refuses: a rejection, and a notice saying what is used instead. */
  invalid<T>(name: string, value: string, problem: string, result: T, instead?: string): T {
    this.rejections.push({ annotation: ANNOTATION_PREFIX + name, value, problem });
    return this.notice(name, value, instead === undefined ? problem : `${problem}; using ${instead}`, result);
  }

  /** A valid value with a caveat (no effect here, or not implemented by aks-emu). */
  notice<T>(name: string, value: string, why: string, result: T): T {
    this.notices.push(`Ingress ${this.#ingress}: annotation ${ANNOTATION_PREFIX}${name}=${JSON.stringify(value)} is ${why}`);
    return result;
  }
}

function parseCanary(r: Reader): CanaryAnnotations {
  const canary: CanaryAnnotations = {
    enabled: r.bool('canary', false),
    header: r.string('canary-by-header'),
    headerValue: r.string('canary-by-header-value'),
    headerPattern: r.string('canary-by-header-pattern'),
    cookie: r.string('canary-by-cookie'),
    weight: r.int('canary-weight', 0),
    weightTotal: r.int('canary-weight-total', 100, 1),
  };
  const configured = canary.header || canary.cookie || canary.weight > 0 || canary.headerValue || canary.headerPattern;
  if (!canary.enabled && configured) {
    r.notice('canary', 'false', 'not set to "true": the canary-* annotations of this Ingress have no effect', undefined);
  }
  if (canary.headerPattern !== undefined) {
    try {
      compileSafeRegex(canary.headerPattern);
    } catch (err) {
      const why = err instanceof UnsafeRegexError ? `rejected: it ${err.message}` : 'not a valid regular expression';
      return r.invalid('canary-by-header-pattern', canary.headerPattern, why, {
        ...canary,
        headerPattern: undefined,
      });
    }
  }
  return canary;
}

function parseProxy(r: Reader, dflt: ProxySettings): ProxySettings {
  const sizeText = r.string('proxy-body-size');
  let bodySizeLimit = dflt.bodySizeLimit;
  if (sizeText !== undefined) {
    const size = parseNginxSize(sizeText);
    bodySizeLimit = size ?? r.invalid('proxy-body-size', sizeText, 'not an nginx size (e.g. 8m)', bodySizeLimit, "the ConfigMap's (default 1m)");
  }
  return {
    connectTimeoutMs: r.int('proxy-connect-timeout', dflt.connectTimeoutMs / 1000, 1) * 1000,
    readTimeoutMs: r.int('proxy-read-timeout', dflt.readTimeoutMs / 1000, 1) * 1000,
    sendTimeoutMs: r.int('proxy-send-timeout', dflt.sendTimeoutMs / 1000, 1) * 1000,
    bodySizeLimit,
    nextUpstreamTries: r.int('proxy-next-upstream-tries', dflt.nextUpstreamTries, 1),
  };
}

function parseAffinity(r: Reader): CookieAffinity | undefined {
  // Each annotation is validated on its own, as the webhook does, whatever `affinity` says.
  const mode = r.string('affinity-mode');
  if (mode !== undefined && mode !== 'balanced' && mode !== 'persistent') {
    r.invalid('affinity-mode', mode, 'neither "balanced" nor "persistent"', undefined);
  }
  const sameSite = r.string('session-cookie-samesite');
  if (sameSite !== undefined && !SAME_SITE.has(sameSite.toLowerCase())) {
    r.invalid('session-cookie-samesite', sameSite, 'not one of None, Lax, Strict', undefined, 'no SameSite attribute');
  }
  const maxAge = r.int('session-cookie-max-age', -1, 0);
  const expires = r.int('session-cookie-expires', -1, 0);
  const secure = r.bool('session-cookie-secure', false);
  const type = r.string('affinity');
  if (type === undefined) return undefined;
  if (type !== 'cookie') return r.invalid('affinity', type, 'not supported (only "cookie")', undefined);
  return {
    cookieName: r.string('session-cookie-name') ?? DEFAULT_AFFINITY_COOKIE,
    path: r.string('session-cookie-path'),
    maxAgeSeconds: maxAge >= 0 ? maxAge : undefined,
    expiresSeconds: expires >= 0 ? expires : undefined,
    secure,
    sameSite: sameSite !== undefined && SAME_SITE.has(sameSite.toLowerCase()) ? sameSite : undefined,
  };
}

function parseSourceRanges(r: Reader): { ranges: string[]; denied?: string } {
  const name = r.string('whitelist-source-range') !== undefined ? 'whitelist-source-range' : 'allowlist-source-range';
  const value = r.string(name);
  if (value === undefined) return { ranges: [] };
  const ranges = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = ranges.find((s) => !isValidSourceRange(s));
  if (bad !== undefined) {
    // ingress-nginx marks the location denied: every request gets 503 (template: "Location denied").
    const denied = `${ANNOTATION_PREFIX}${name}: ${JSON.stringify(bad)} is not a valid CIDR`;
    return r.invalid(
      name,
      value,
      `not a list of CIDRs (${JSON.stringify(bad)})`,
      { ranges: [], denied },
      'a denied location (503), as ingress-nginx without the webhook',
    );
  }
  return { ranges };
}

function parseCustomErrors(r: Reader, dflt: readonly number[]): readonly number[] {
  const value = r.string('custom-http-errors');
  if (value === undefined) return dflt;
  const codes = value.split(',').map((s) => s.trim());
  if (codes.some((c) => !/^[1-5]\d\d$/.test(c))) {
    return r.invalid('custom-http-errors', value, 'not a list of HTTP status codes', dflt);
  }
  return [...new Set(codes.map(Number))];
}

function parseBackendProtocol(r: Reader): BackendProtocol {
  const raw = r.string('backend-protocol');
  const value = raw?.toUpperCase();
  if (raw === undefined || value === undefined || value === 'HTTP' || value === 'AUTO_HTTP') return 'HTTP';
  if (value === 'HTTPS') return 'HTTPS';
  if (BACKEND_PROTOCOLS.has(value)) return r.notice('backend-protocol', raw, 'not implemented by aks-emu; proxying with HTTP', 'HTTP');
  return r.invalid('backend-protocol', raw, `not one of ${[...BACKEND_PROTOCOLS].join(', ')}`, 'HTTP', 'HTTP');
}

function parseAppRoot(r: Reader): string | undefined {
  const value = r.string('app-root');
  if (value === undefined || value.startsWith('/')) return value;
  return r.invalid('app-root', value, 'not a path starting with "/"', undefined);
}

function parseDefaultBackend(r: Reader): string | undefined {
  const value = r.string('default-backend');
  if (value === undefined || DNS1035_LABEL.test(value)) return value;
  return r.invalid('default-backend', value, 'not a valid Service name (a DNS-1035 label)', undefined);
}

export interface ParsedAnnotations {
  readonly annotations: IngressAnnotations;
  readonly notices: string[];
  readonly rejections: AnnotationRejection[];
}

export function parseIngressAnnotations(ing: Ingress, defaults: LocationDefaults = DEFAULT_LOCATION): ParsedAnnotations {
  const r = new Reader(ing);
  const sources = parseSourceRanges(r);
  const annotations: IngressAnnotations = {
    canary: parseCanary(r),
    rewriteTarget: r.string('rewrite-target'),
    useRegex: r.bool('use-regex', false),
    appRoot: parseAppRoot(r),
    sslRedirect: r.bool('ssl-redirect', defaults.sslRedirect),
    forceSslRedirect: r.bool('force-ssl-redirect', false),
    allowSourceRanges: sources.ranges,
    denied: sources.denied,
    proxy: parseProxy(r, defaults.proxy),
    backendProtocol: parseBackendProtocol(r),
    customHttpErrors: parseCustomErrors(r, defaults.customHttpErrors),
    defaultBackend: parseDefaultBackend(r),
    affinity: parseAffinity(r),
  };
  return { annotations, notices: r.notices, rejections: r.rejections };
}
