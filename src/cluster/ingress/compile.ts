/**
 * Ingresses → IngressConfig, following ingress-nginx's controller.go (getBackendServers,
 * createServers, mergeAlternativeBackends): every host becomes a server with a root
 * location served by the Ingress's spec.defaultBackend or the built-in 404; host-less rules
 * and unmatched hosts use the `_` server; the first Ingress (manifest order, standing in
 * for creation time) wins a host+path; canary Ingresses add no locations but attach their
 * upstream to the matching main upstream.
 */
import type { ServiceEndpoints, ServiceInfo } from '../snapshot.js';
import { objectKey, type Ingress, type IngressClass, type PathType, type Secret } from '../../model/types.js';
import { DEFAULT_LOCATION, parseIngressAnnotations, type IngressAnnotations, type LocationDefaults } from './annotations.js';
import { ingressOwnership } from './ingress-class.js';
import { certificateMatchesHost, readTlsSecret } from './tls-secret.js';
import {
  CONTROLLER_CLASSES,
  DEFAULT_SERVER_NAME,
  type CompileResult,
  type ControllerTraffic,
  type IngressConfig,
  type IngressStatus,
  type LocationConfig,
  type ServerConfig,
  type ServerTls,
  type TlsCertificate,
} from './types.js';
import { UpstreamTable, upstreamName, type MutableUpstream } from './upstream-table.js';

export interface CompileInput {
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  readonly services: readonly ServiceInfo[];
  readonly endpoints: readonly ServiceEndpoints[];
  readonly secrets: readonly Secret[];
  /** Default: `nginx` and `webapprouting.kubernetes.azure.com`. */
  readonly controllerClasses?: readonly string[];
  /** The controller ConfigMap's location defaults (proxy-*, ssl-redirect, custom-http-errors); default ingress-nginx's. */
  readonly locationDefaults?: LocationDefaults;
  /** The controller ConfigMap's per-request settings, carried to the data plane as they are. */
  readonly controller?: ControllerTraffic;
}

interface Parsed {
  readonly key: string;
  readonly ing: Ingress;
  readonly anns: IngressAnnotations;
}

/** Build-time fields: the Ingress's app-root, and whether the `_` root was taken by a catch-all Ingress. */
type MutableLocation = { -readonly [K in keyof LocationConfig]: LocationConfig[K] } & { appRoot?: string; claimed?: boolean };

interface MutableServer {
  hostname: string;
  tls?: ServerTls;
  locations: MutableLocation[];
}

const ROOT = '/';

function hostOf(host: string | undefined): string {
  return host === undefined || host === '' ? DEFAULT_SERVER_NAME : host.toLowerCase();
}

/** ingress-nginx's needsRewrite: a rewrite-target equal to the path is no rewrite. */
export function needsRewrite(loc: { readonly rewriteTarget?: string; readonly path: string }): boolean {
  return loc.rewriteTarget !== undefined && loc.rewriteTarget !== loc.path;
}

function defaultRootLocation(defaults: LocationDefaults): MutableLocation {
  return {
    path: ROOT,
    pathType: 'Prefix',
    isDefaultBackend: true,
    useRegex: false,
    sslRedirect: defaults.sslRedirect,
    forceSslRedirect: false,
    allowSourceRanges: [],
    proxy: defaults.proxy,
    backendProtocol: 'HTTP',
    customHttpErrors: defaults.customHttpErrors,
  };
}

/** locationApplyAnnotations: the per-location settings an Ingress's annotations give. */
function applyAnnotations(loc: MutableLocation, p: Parsed, table: UpstreamTable, withRewrite: boolean): void {
  const a = p.anns;
  loc.ingress = p.key;
  loc.useRegex = a.useRegex;
  loc.sslRedirect = a.sslRedirect;
  loc.forceSslRedirect = a.forceSslRedirect;
  loc.allowSourceRanges = a.allowSourceRanges;
  loc.denied = a.denied;
  loc.proxy = a.proxy;
  loc.backendProtocol = a.backendProtocol;
  loc.customHttpErrors = a.customHttpErrors;
  loc.errorUpstream = undefined;
  if (a.defaultBackend !== undefined) {
    const ups = table.ensureFirstPort(p.ing.metadata.namespace, a.defaultBackend);
    // ingress-nginx: a custom default backend is used only if it has at least one endpoint.
    if (ups && ups.endpoints.length > 0) loc.errorUpstream = ups.name;
  }
  if (withRewrite) {
    loc.rewriteTarget = a.rewriteTarget;
    loc.appRoot = a.appRoot;
  }
}

class Compiler {
  readonly notices: string[] = [];
  readonly statuses: Record<string, IngressStatus> = {};
  readonly parsed: Parsed[] = [];
  readonly table: UpstreamTable;
  readonly servers = new Map<string, MutableServer>();
  readonly certificates = new Map<string, TlsCertificate>();
  readonly #input: CompileInput;
  readonly defaults: LocationDefaults;

  constructor(input: CompileInput) {
    this.#input = input;
    this.defaults = input.locationDefaults ?? DEFAULT_LOCATION;
    this.table = new UpstreamTable(input.services, input.endpoints);
    const classes = input.controllerClasses ?? CONTROLLER_CLASSES;
    for (const ing of input.ingresses) {
      const key = objectKey(ing.metadata);
      const status = ingressOwnership(ing, input.ingressClasses, classes);
      this.statuses[key] = status;
      if (!status.admitted) continue;
      const { annotations, notices } = parseIngressAnnotations(ing, this.defaults);
      this.notices.push(...notices);
      this.parsed.push({ key, ing, anns: annotations });
    }
    this.servers.set(DEFAULT_SERVER_NAME, { hostname: DEFAULT_SERVER_NAME, locations: [defaultRootLocation(this.defaults)] });
  }

  createUpstreams(): void {
    for (const p of this.parsed) {
      const ns = p.ing.metadata.namespace;
      const backends = [p.ing.spec.defaultBackend, ...p.ing.spec.rules.flatMap((r) => r.paths.map((x) => x.backend))];
      for (const backend of backends) {
        if (!backend?.service) continue;
        // Like createUpstreams, only the Ingress that creates an upstream decides whether it is a canary.
        const created = this.table.get(upstreamName(ns, backend.service)) === undefined;
        const ups = this.table.ensure(ns, backend.service);
        if (created && p.anns.canary.enabled) {
          const { enabled: _enabled, ...policy } = p.anns.canary;
          ups.canary = { ingress: p.key, ...policy };
        }
      }
    }
  }

  createServers(): void {
    const catchAll = this.#server(DEFAULT_SERVER_NAME);
    for (const p of this.parsed) {
      if (p.anns.canary.enabled) continue;
      const def = p.ing.spec.defaultBackend?.service;
      const un = def ? upstreamName(p.ing.metadata.namespace, def) : undefined;
      const root = catchAll.locations[0];
      if (un !== undefined && p.ing.spec.rules.length === 0 && root?.isDefaultBackend && !root.claimed) {
        // The "catch all" case: an Ingress with a backend and no rule serves the `_` server.
        applyAnnotations(root, p, this.table, false);
        root.upstream = un;
        root.claimed = true;
      }
      for (const rule of p.ing.spec.rules) {
        const host = hostOf(rule.host);
        if (this.servers.has(host)) continue;
        const loc = defaultRootLocation(this.defaults);
        applyAnnotations(loc, p, this.table, true);
        loc.upstream = un;
        this.servers.set(host, { hostname: host, locations: [loc] });
      }
    }
    for (const p of this.parsed) {
      if (!p.anns.canary.enabled) this.#configureTls(p);
    }
  }

  createLocations(): void {
    for (const p of this.parsed) {
      const ns = p.ing.metadata.namespace;
      p.ing.spec.rules.forEach((rule, ri) => {
        const server = this.servers.get(hostOf(rule.host)) ?? this.#server(DEFAULT_SERVER_NAME);
        rule.paths.forEach((path, pi) => {
          const svc = path.backend.service;
          if (!svc) {
            this.notices.push(`Ingress ${p.key}: spec.rules[${ri}].http.paths[${pi}] has a resource backend, which the built-in controller ignores`);
            return;
          }
          const ups = this.table.ensure(ns, svc);
          if (ups.canary) return;
          const nginxPath = path.path === '' ? ROOT : path.path;
          this.#addLocation(server, p, nginxPath, path.pathType, ups, { rule: ri, path: pi });
          if (p.anns.affinity && !ups.affinity) ups.affinity = p.anns.affinity;
        });
      });
    }
  }

  mergeCanaries(): void {
    if (!this.parsed.some((p) => !p.anns.canary.enabled)) return;
    for (const p of this.parsed) {
      if (!p.anns.canary.enabled) continue;
      const ns = p.ing.metadata.namespace;
      const def = p.ing.spec.defaultBackend?.service;
      if (def) this.#mergeInto(p, this.table.ensure(ns, def), this.#server(DEFAULT_SERVER_NAME), undefined);
      for (const rule of p.ing.spec.rules) {
        const server = this.servers.get(hostOf(rule.host));
        for (const path of rule.paths) {
          if (!path.backend.service) continue;
          const alt = this.table.ensure(ns, path.backend.service);
          if (!server) {
            this.notices.push(`Ingress ${p.key}: canary host ${JSON.stringify(hostOf(rule.host))} is served by no main Ingress; the canary is ignored`);
            continue;
          }
          this.#mergeInto(p, alt, server, { path: path.path === '' ? ROOT : path.path, pathType: path.pathType });
        }
      }
    }
  }

  finish(): IngressConfig {
    const servers: ServerConfig[] = [...this.servers.values()]
      .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0))
      .map((s) => {
        // getBackendServers: sort by path descending, then (stable) by length descending.
        const locations = [...s.locations].sort((a, b) => (a.path > b.path ? -1 : a.path < b.path ? 1 : 0));
        locations.sort((a, b) => b.path.length - a.path.length);
        const regexBy = [...new Set(locations.filter((l) => l.useRegex || needsRewrite(l)).map((l) => l.ingress ?? ''))];
        const withAppRoot = locations.find((l) => l.appRoot !== undefined);
        const server: ServerConfig = {
          hostname: s.hostname,
          regexBy,
          tls: s.tls,
          appRoot: withAppRoot?.appRoot ? { path: withAppRoot.appRoot, ingress: withAppRoot.ingress ?? '' } : undefined,
          locations: locations.map(({ appRoot: _appRoot, claimed: _claimed, ...loc }) => loc),
        };
        return server;
      });
    const controller = this.#input.controller;
    return { ...(controller ? { controller } : {}), servers, upstreams: this.table.all(), certificates: [...this.certificates.values()] };
  }

  #server(host: string): MutableServer {
    const server = this.servers.get(host);
    if (!server) throw new Error(`ingress compile: no server ${host}`);
    return server;
  }

  /**
   * A server's locations by path, in order, so that adding one looks at those of its path
   * only: a host with many paths used to be scanned once per path (quadratic).
   */
  readonly #byPath = new WeakMap<MutableServer, Map<string, MutableLocation[]>>();

  #locationsAt(server: MutableServer, path: string): MutableLocation[] {
    let index = this.#byPath.get(server);
    if (!index) {
      index = new Map();
      for (const loc of server.locations) {
        const same = index.get(loc.path);
        if (same) same.push(loc);
        else index.set(loc.path, [loc]);
      }
      this.#byPath.set(server, index);
    }
    let at = index.get(path);
    if (!at) index.set(path, (at = []));
    return at;
  }

  #addLocation(server: MutableServer, p: Parsed, path: string, pathType: PathType, ups: MutableUpstream, rule: { rule: number; path: number }): void {
    const samePath = this.#locationsAt(server, path);
    for (const loc of samePath) {
      // ingress-nginx keeps two locations for one path when the pathTypes differ; the root
      // location of the default backend is replaced by any `/` path.
      if (loc.pathType !== pathType && !(loc.isDefaultBackend && path === ROOT)) break;
      if (!loc.isDefaultBackend || loc.claimed) {
        this.notices.push(
          `Ingress ${p.key}: host ${JSON.stringify(server.hostname)} path ${JSON.stringify(path)} (${pathType}) is already defined by Ingress ${loc.ingress}, which is older; this path is ignored`,
        );
        return;
      }
      applyAnnotations(loc, p, this.table, true);
      Object.assign(loc, { pathType, isDefaultBackend: false, upstream: ups.name, rule });
      return;
    }
    const loc: MutableLocation = { ...defaultRootLocation(this.defaults), path, pathType, isDefaultBackend: false, upstream: ups.name, rule };
    applyAnnotations(loc, p, this.table, true);
    server.locations.push(loc);
    samePath.push(loc);
  }

  #mergeInto(p: Parsed, alt: MutableUpstream, server: MutableServer, match: { path: string; pathType: PathType } | undefined): void {
    let merged = false;
    for (const loc of server.locations) {
      const primary = this.table.get(loc.upstream);
      if (!primary) continue;
      if (primary.name === alt.name) {
        this.notices.push(`Ingress ${p.key}: canary upstream ${alt.name} is the main upstream of Ingress ${loc.ingress}; the canary is ignored`);
        return;
      }
      if (primary.canary || (match && (loc.path !== match.path || loc.pathType !== match.pathType))) continue;
      // ingress-nginx keeps a list but only ever routes to the first alternative backend.
      primary.alternative ??= alt.name;
      merged = true;
    }
    if (!merged) {
      const where = match ? `host ${JSON.stringify(server.hostname)} path ${JSON.stringify(match.path)} (${match.pathType})` : 'the default backend';
      this.notices.push(`Ingress ${p.key}: canary has no main Ingress for ${where}; the canary is ignored`);
    }
  }

  #configureTls(p: Parsed): void {
    if (p.ing.spec.tls.length === 0) return;
    for (const rule of p.ing.spec.rules) {
      const host = hostOf(rule.host);
      const server = this.servers.get(host);
      if (!server || server.tls || host === DEFAULT_SERVER_NAME) continue;
      const listed = p.ing.spec.tls.find((t) => t.hosts.some((h) => h.toLowerCase() === host));
      const candidates = listed ? [listed] : p.ing.spec.tls.filter((t) => t.hosts.length === 0 && t.secretName);
      for (const tls of candidates) {
        server.tls = this.#certificateFor(p, host, tls.secretName, listed !== undefined);
        if (server.tls) break;
      }
    }
  }

  #certificateFor(p: Parsed, host: string, secretName: string | undefined, listed: boolean): ServerTls | undefined {
    const ns = p.ing.metadata.namespace;
    const fallback = `the controller serves its default (fake) certificate for ${JSON.stringify(host)}`;
    if (!secretName) {
      this.notices.push(`Ingress ${p.key}: spec.tls lists ${JSON.stringify(host)} without a secretName; ${fallback}`);
      return { ingress: p.key };
    }
    const read = readTlsSecret(this.#input.secrets, ns, secretName);
    if (!read.ok) {
      if (!listed) return undefined;
      this.notices.push(`Ingress ${p.key}: ${read.problem}; ${fallback}`);
      return { ingress: p.key, secret: secretName };
    }
    if (!certificateMatchesHost(read.cert, host)) {
      if (!listed) return undefined;
      this.notices.push(`Ingress ${p.key}: the certificate of Secret ${ns}/${secretName} is not valid for ${JSON.stringify(host)}; ${fallback}`);
      return { ingress: p.key, secret: secretName };
    }
    const id = `${ns}/${secretName}`;
    this.certificates.set(id, { id, certPem: read.certPem, keyPem: read.keyPem });
    return { ingress: p.key, secret: secretName, certificate: id };
  }
}

export function compileIngress(input: CompileInput): CompileResult {
  const c = new Compiler(input);
  c.createUpstreams();
  c.createServers();
  c.createLocations();
  c.mergeCanaries();
  const config = c.finish();
  return { config, statuses: c.statuses, notices: c.notices };
}
