/**
 * buildRouter: IngressConfig → frozen matchers. Everything a request needs is computed
 * here once (host tables, location matchers, compiled regexes, rewrite templates, CIDR
 * lists, canary policies, cookie tables, TLS contexts); the proxy only reads it.
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { needsRewrite } from '../../cluster/ingress/compile.js';
import { buildHostTable, hostFromHeader, lookupHost, lookupWildcardAnyDepth, wildcardRequestKey, type HostTable } from './host-match.js';
import { compileRouteRule, type CompiledRouteRule } from './route-match.js';
import { PathMatcher, type PathMatch } from '../../cluster/ingress/path-match.js';
import { compileSafeRegex, type SafeRegex } from '../../cluster/ingress/safe-regex.js';
import { parseRewriteTarget, type RewriteTemplate } from './rewrite.js';
import {
  DEFAULT_SERVER_NAME,
  type CanaryPolicy,
  type CookieAffinity,
  type IngressConfig,
  type LocationConfig,
  type ServerConfig,
  type UpstreamConfig,
  type UpstreamEndpoint,
} from '../../cluster/ingress/types.js';

export interface CompiledEndpoint {
  readonly config: UpstreamEndpoint;
  /** `ip:port`, the upstream pool key. */
  readonly address: string;
  /** Value of the affinity cookie that pins a client to this endpoint. */
  readonly cookieValue: string;
}

export interface CompiledCanary {
  readonly policy: CanaryPolicy;
  /** Lower-cased, as Node stores request header names. */
  readonly header?: string;
  readonly headerPattern?: SafeRegex;
}

export interface CompiledUpstream {
  /** Position in Router.upstreams: per-pod balancer state is indexed by it. */
  readonly index: number;
  readonly config: UpstreamConfig;
  readonly name: string;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly byCookie: ReadonlyMap<string, number>;
  readonly affinity?: CookieAffinity;
  /** Set once while the router is built, then frozen. */
  alternative?: CompiledUpstream;
  readonly canary?: CompiledCanary;
}

export type BuiltinLocation = 'healthz';

export interface CompiledLocation {
  readonly config: LocationConfig;
  readonly upstream?: CompiledUpstream;
  readonly errorUpstream?: CompiledUpstream;
  readonly rewrite?: RewriteTemplate;
  readonly allow?: BlockList;
  readonly customErrors?: ReadonlySet<number>;
  /** Default path of the affinity cookie: the Ingress path, as ingress-nginx's `$location_path`. */
  readonly cookiePath: string;
  readonly builtin?: BuiltinLocation;
}

export interface CompiledServer {
  readonly config: ServerConfig;
  readonly hostname: string;
  readonly hasTls: boolean;
  readonly appRoot?: string;
  readonly matcher: PathMatcher<CompiledLocation>;
  /** Gateway API servers: match rules in precedence order (the matcher is then empty). */
  readonly rules?: readonly CompiledRouteRule[];
}

const HEALTHZ_CONFIG: LocationConfig = Object.freeze({
  path: '/healthz',
  pathType: 'Prefix',
  isDefaultBackend: false,
  useRegex: false,
  sslRedirect: false,
  forceSslRedirect: false,
  allowSourceRanges: [],
  proxy: { connectTimeoutMs: 0, readTimeoutMs: 0, sendTimeoutMs: 0, bodySizeLimit: 0, nextUpstreamTries: 1 },
  backendProtocol: 'HTTP',
  customHttpErrors: [],
});

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function compileUpstream(config: UpstreamConfig, index: number): CompiledUpstream {
  // sticky.lua stores `<endpoint key>|<backend key>` in the cookie; md5 keeps both opaque.
  const backendKey = md5(config.name);
  const endpoints = config.endpoints.map((e) => {
    const address = `${e.ip}:${e.port}`;
    return Object.freeze({ config: e, address, cookieValue: `${md5(address)}|${backendKey}` });
  });
  const canary = config.canary
    ? Object.freeze({
        policy: config.canary,
        header: config.canary.header?.toLowerCase(),
        headerPattern: config.canary.headerPattern === undefined ? undefined : compileSafeRegex(config.canary.headerPattern),
      })
    : undefined;
  return {
    index,
    config,
    name: config.name,
    endpoints,
    byCookie: new Map(endpoints.map((e, i) => [e.cookieValue, i])),
    affinity: config.affinity,
    canary,
  };
}

function compileAllow(ranges: readonly string[]): BlockList | undefined {
  if (ranges.length === 0) return undefined;
  const list = new BlockList();
  for (const range of ranges) {
    const slash = range.indexOf('/');
    const address = slash < 0 ? range : range.slice(0, slash);
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (slash < 0) list.addAddress(address, type);
    else list.addSubnet(address, Number(range.slice(slash + 1)), type);
  }
  return list;
}

export class Router {
  readonly config: IngressConfig;
  readonly upstreams: readonly CompiledUpstream[];
  readonly defaultServer: CompiledServer;
  /** Regex paths that do not compile, per host: those locations are left out. */
  readonly problems: readonly string[];
  readonly #hosts: HostTable<CompiledServer>;
  readonly #contexts: HostTable<SecureContext>;

  constructor(config: IngressConfig) {
    this.config = config;
    const upstreams = config.upstreams.map(compileUpstream);
    const byName = new Map(upstreams.map((u) => [u.name, u]));
    for (const u of upstreams) {
      if (u.config.alternative !== undefined) u.alternative = byName.get(u.config.alternative);
      Object.freeze(u);
    }
    this.upstreams = Object.freeze(upstreams);
    const problems: string[] = [];
    const servers = config.servers.map((s) => this.#compileServer(s, byName, problems));
    this.defaultServer =
      servers.find((s) => s.hostname === DEFAULT_SERVER_NAME) ??
      this.#compileServer({ hostname: DEFAULT_SERVER_NAME, regexBy: [], locations: [] }, byName, problems);
    this.#hosts = buildHostTable(servers.filter((s) => s !== this.defaultServer).map((s) => [s.hostname, s] as const));
    this.#contexts = buildHostTable(this.#secureContexts(config));
    this.problems = Object.freeze(problems);
    Object.freeze(this);
  }

  /** The server for a Host header: exact name, then one-label wildcard, then `_`. */
  matchServer(hostHeader: string | undefined): CompiledServer {
    const host = hostFromHeader(hostHeader);
    const exact = this.#hosts.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.config.dialect === 'gateway-api') return lookupWildcardAnyDepth(this.#hosts, host) ?? this.defaultServer;
    const key = wildcardRequestKey(host);
    return (key === undefined ? undefined : this.#hosts.wildcard.get(key)) ?? this.defaultServer;
  }

  /** Every server has a root location, so this only fails for a broken regex-mode server. */
  matchLocation(server: CompiledServer, path: string): PathMatch<CompiledLocation> | undefined {
    return server.matcher.match(path);
  }

  /** SNICallback's answer: the host's certificate, or undefined for the default (fake) one. */
  secureContext(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    if (this.config.dialect !== 'gateway-api') return lookupHost(this.#contexts, name)?.value;
    return this.#contexts.exact.get(name) ?? lookupWildcardAnyDepth(this.#contexts, name) ?? this.#contexts.exact.get(DEFAULT_SERVER_NAME);
  }

  #compileServer(config: ServerConfig, upstreams: ReadonlyMap<string, CompiledUpstream>, problems: string[]): CompiledServer {
    const regexMode = config.regexBy.length > 0;
    const rules = config.locations.map((loc) => ({ path: loc.path, pathType: loc.pathType, target: this.#compileLocation(loc, upstreams) }));
    // ingress-nginx's `_` server answers the cloud providers' health checks on /healthz (nginx.tmpl).
    const extra =
      config.hostname === DEFAULT_SERVER_NAME && this.config.dialect !== 'gateway-api'
        ? [{ key: '/healthz', target: { config: HEALTHZ_CONFIG, cookiePath: '/', builtin: 'healthz' as const } }]
        : [];
    // A Gateway API table answers every host itself (404 when no rule matches), `_` included.
    const routes = config.routes ?? (this.config.dialect === 'gateway-api' ? [] : undefined);
    const routeRules = routes?.map((r) => compileRouteRule(r, upstreams));
    const matcher = new PathMatcher(rules, regexMode, extra);
    for (const bad of matcher.invalid)
      problems.push(
        `host ${JSON.stringify(config.hostname)}: path ${JSON.stringify(bad.path)} is not a valid regular expression (${bad.error}); the location is left out`,
      );
    return Object.freeze({
      config,
      hostname: config.hostname,
      hasTls: config.tls !== undefined,
      appRoot: config.appRoot?.path,
      matcher,
      ...(routeRules ? { rules: routeRules } : {}),
    });
  }

  #compileLocation(config: LocationConfig, upstreams: ReadonlyMap<string, CompiledUpstream>): CompiledLocation {
    return Object.freeze({
      config,
      upstream: config.upstream === undefined ? undefined : upstreams.get(config.upstream),
      errorUpstream: config.errorUpstream === undefined ? undefined : upstreams.get(config.errorUpstream),
      rewrite: needsRewrite(config) && config.rewriteTarget !== undefined ? parseRewriteTarget(config.rewriteTarget) : undefined,
      allow: compileAllow(config.allowSourceRanges),
      customErrors: config.customHttpErrors.length > 0 ? new Set(config.customHttpErrors) : undefined,
      cookiePath: config.path,
    });
  }

  *#secureContexts(config: IngressConfig): Generator<readonly [string, SecureContext]> {
    const contexts = new Map<string, SecureContext>();
    for (const cert of config.certificates) contexts.set(cert.id, createSecureContext({ cert: cert.certPem, key: cert.keyPem }));
    for (const entry of config.sni ?? []) {
      const ctx = contexts.get(entry.certificate);
      if (ctx) yield [entry.hostname, ctx] as const;
    }
    for (const server of config.servers) {
      const ctx = server.tls?.certificate === undefined ? undefined : contexts.get(server.tls.certificate);
      if (ctx) yield [server.hostname, ctx] as const;
    }
  }
}

export function buildRouter(config: IngressConfig): Router {
  return new Router(config);
}
