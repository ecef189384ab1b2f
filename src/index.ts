/**
 * The library API for tests: start a cluster from manifests, reach its Services, inject
 * faults, stop it. Everything is released by stop().
 *
 *   const cluster = await startCluster({ files: ['k8s/'], timeScale: 0.01 });
 *   const web = cluster.service('web');
 *   await fetch(web.url());                       // through the Azure LB frontend
 *   await cluster.stopNode(cluster.nodes[0].name);
 *   await cluster.waitForProbe(cluster.nodes[0].name, 'down');
 *   await cluster.stop();
 */
import type { NodeInfo, PodInfo, ServiceInfo, Snapshot } from './cluster/snapshot.js';
import { buildConfig, loadConfigFile, type ConfigInput } from './config/load.js';
import type { WorkloadInput } from './config/workloads.js';
import type { ClusterConfig } from './config/types.js';
import { startAdminServer, type AdminServer } from './api/server.js';
import { AksEmuError } from './errors/index.js';
import { loadObjects, MANIFEST_LISTS, type LoadResult, type RawObject } from './manifests/index.js';
import { KubeStore } from './api/kube/kube-store.js';
import { createKubeApi } from './api/kube/handler.js';
import type { Manifests } from './model/types.js';
import { manifestOptions, type ManifestFlags } from './runtime/check.js';
import { mergeGatewayObjects } from './model/gateway-types.js';
import { gatewayHandle, type GatewayHandle } from './gateway-handle.js';
import { EmbeddedCluster } from './runtime/embedded-cluster.js';
import type { OtlpExportOptions } from './runtime/otlp-export.js';
import type { StopOptions, TraceQuery, TraceView } from './dataplane/index.js';
import type { Fault } from './faults/types.js';
import type { FaultInput } from './faults/input.js';
import { endpointDistribution, type EndpointDistribution } from './faults/distribution.js';
import { prefetchDefaultCertificate } from './dataplane/ingress/self-signed-cert.js';

// A test file imports the library, then starts a cluster: the ingress controller's default
// certificate (an RSA key, made on the thread pool, once per process) is begun here so
// that it is ready by then instead of delaying the controller's first Ready.
prefetchDefaultCertificate();

export { AksEmuError, ManifestInvalidError, ERROR_CODES, type ErrorCode, type FieldError } from './errors/index.js';
export type { Snapshot, ServiceInfo, PodInfo, NodeInfo } from './cluster/snapshot.js';
export type { ClusterConfig } from './config/types.js';
export type { StopOptions, TraceQuery, TraceView } from './dataplane/index.js';
export type { Fault, FaultList, FaultType, TargetKind, Direction } from './faults/types.js';
export type { FaultInput, FaultParamsByType, Duration } from './faults/input.js';
export type { EndpointDistribution } from './faults/distribution.js';

export interface StartClusterOptions {
  /** Manifest files and folders. */
  readonly files?: string | readonly string[];
  /** Inline manifests: YAML text (multi-document) or Kubernetes objects. */
  readonly manifests?: string | object | readonly object[];
  /** Fields a kind does not have: 'Strict' (default, as kubectl) refuses them, 'Warn' adds a notice, 'Ignore'. */
  readonly fieldValidation?: ManifestFlags['fieldValidation'];
  /** The namespace of objects that name none, as `kubectl apply -n` (default `default`). */
  readonly namespace?: string;
  /** Node count or names (default 3 AKS-style names). */
  readonly nodes?: number | readonly string[];
  /** An aks-emu.yaml to read; `config` fields override it. */
  readonly configFile?: string;
  readonly config?: ConfigInput;
  /** Shorthand for config.timeScale: 0.01 makes a 5 s probe interval 50 ms. */
  readonly timeScale?: number;
  readonly seed?: number;
  /**
   * Images to run as local processes, as aks-emu.yaml's `workloads:`; a relative cwd is
   * relative to the current directory: `[{ image: 'contoso/api*', command: ['node', 'server.js'], cwd: './api' }]`.
   */
  readonly workloads?: readonly WorkloadInput[];
  /** Admin API address; default 127.0.0.1 on a free port; false for none. */
  readonly admin?: { host?: string; port?: number; token?: string } | false;
  /**
   * Resolve only once traffic would be served: every pod Ready and every LB frontend with
   * endpoints seeing a healthy node (default true, bounded by waitTimeoutMs, default 30 s,
   * after which it resolves anyway so tests can inspect what is not ready).
   */
  readonly wait?: boolean;
  readonly waitTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Export traces as OpenTelemetry spans over OTLP/HTTP: `{ endpoint: 'http://127.0.0.1:4318/v1/traces' }` (docs/observability.md). */
  readonly otlp?: OtlpExportOptions;
}

export type { GatewayHandle } from './gateway-handle.js';

export interface ServicePortHandle {
  readonly name: string;
  readonly port: number;
  readonly nodePort?: number;
}

export interface ServiceHandle {
  readonly info: ServiceInfo;
  readonly clusterIP: string;
  /** The LB frontend IP (EXTERNAL-IP), undefined unless type LoadBalancer and not pending. */
  readonly loadBalancerIP: string | undefined;
  readonly ports: readonly ServicePortHandle[];
  nodePort(port?: number | string): number;
  /**
   * A URL that reaches this Service from the host: the LB frontend for LoadBalancer, the
   * first running node's NodePort for NodePort. ClusterIP Services are in-cluster only.
   */
  url(port?: number | string, path?: string): string;
}

export interface Cluster {
  readonly config: ClusterConfig;
  readonly adminUrl: string | undefined;
  /** The admin API's bearer token (what `aks-emu kubeconfig` writes for kubectl). */
  readonly adminToken: string | undefined;
  readonly notices: readonly string[];
  readonly snapshot: Snapshot;
  readonly nodes: readonly NodeInfo[];
  service(name: string, namespace?: string): ServiceHandle;
  /** A Gateway served by the built-in controller: status, address and listener URLs. */
  gateway(name: string, namespace?: string): GatewayHandle;
  pods(selector?: Record<string, string>, namespace?: string): PodInfo[];
  pod(name: string, namespace?: string): PodInfo;
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  /** Force a pod ready/unready (true/false) or hand it back to its readiness probes (null). */
  setPodReady(name: string, ready: boolean | null, namespace?: string): Promise<void>;
  /** A process pod's output (`kubectl logs`); `previous` for the instance before the last restart. */
  logs(name: string, options?: { container?: string; previous?: boolean; namespace?: string }): string;
  /** Kills a process pod's containers at once, as a crash; kubelet's restart and back-off follow. */
  killPod(name: string, namespace?: string): void;
  /** Each LB probe's state per node. */
  probeStatus(): ReturnType<EmbeddedCluster['probeStatus']>;
  stats(): ReturnType<EmbeddedCluster['stats']>;
  /** Observability (docs/observability.md): Prometheus text, and connection and request traces. */
  metrics(): string;
  traces(query?: TraceQuery): TraceView[];
  /** Each trace that ends from now on and matches, until the returned function is called. */
  followTraces(query: TraceQuery, onTrace: (trace: TraceView) => void): () => void;
  /**
   * Resolves when `state` holds for `node` on every LB probe (a state the probes have settled on, not the optimistic start), or on the probes of one
   * Service (`service`: name or ns/name) or one probe (`probe`); rejects after timeoutMs.
   */
  waitForProbe(node: string, state: 'up' | 'down', options?: { service?: string; probe?: string; timeoutMs?: number }): Promise<void>;
  /** Every pod Ready and every LB frontend with endpoints seeing a healthy node. */
  serving(): boolean;
  /** Resolves when the predicate holds for the current snapshot; re-checked on every change. */
  waitFor(predicate: (snapshot: Snapshot) => boolean, options?: { timeoutMs?: number; what?: string }): Promise<void>;
  apply(manifests: { files?: string | readonly string[]; manifests?: string | object | readonly object[] }): Promise<void>;
  /**
   * Adds a fault at one hop (docs/faults.md): `addFault({ type: 'reset', target: 'service/default/web', params: { fraction: 1 }, for: '30s' })`.
   * Rejects with a 422 ApiStatusError naming the field when the fault is invalid; nothing changes then.
   */
  addFault(fault: FaultInput): Promise<Fault>;
  /** Every active fault, with how often each has fired. */
  faults(): Fault[];
  /** Removes a fault and undoes what it set (a stopped node starts, a pod gets its readiness back). */
  removeFault(id: string): Promise<Fault>;
  /** Removes every fault; resolves with the removed ones. */
  clearFaults(): Promise<Fault[]>;
  /** Resolves with the fault once it has fired at least `times` times; rejects after timeoutMs. */
  waitForFault(id: string, times: number, options?: { timeoutMs?: number }): Promise<Fault>;
  /**
   * Resolves when the node has left (inPool false) or rejoined (true) the pool of healthy
   * backends of every LB rule, or of one Service's rules (`service`: name or ns/name).
   */
  waitForPool(node: string, inPool: boolean, options?: { service?: string; timeoutMs?: number }): Promise<void>;
  /** Resolves when the Service has `count` ready endpoints (on one port: `port` name or number). */
  waitForEndpoints(service: string, count: number, options?: { namespace?: string; port?: string | number; timeoutMs?: number }): Promise<void>;
  /**
   * Which pod kube-proxy sent each connection of a Service to, counted since start (or
   * since `since`, an earlier reading): assert "each of 3 pods got 1/3 ± 5 %" with
   * `d.evenWithin(0.05)`.
   */
  distribution(service: string, options?: { namespace?: string; port?: string | number; since?: EndpointDistribution }): EndpointDistribution;
  /**
   * Release everything. With graceMs, listeners stop accepting at once and open flows get
   * up to graceMs to finish before the rest is reset; a second call without graceMs (or
   * with 0) cuts that wait short. Default 0: close at once.
   */
  stop(options?: StopOptions): Promise<void>;
}

async function readManifests(
  input: { files?: string | readonly string[]; manifests?: string | object | readonly object[] } & ManifestFlags,
  config: ClusterConfig,
): Promise<LoadResult & { raw: RawObject[] }> {
  if (input.files === undefined && input.manifests === undefined) throw new AksEmuError('AKS_EMU_USAGE', 'startCluster: give `files` or `manifests`');
  const files = input.files === undefined ? [] : typeof input.files === 'string' ? [input.files] : [...input.files];
  const inline = typeof input.manifests === 'string' ? [{ file: '<inline>', text: input.manifests }] : [];
  const objects =
    input.manifests === undefined || typeof input.manifests === 'string'
      ? []
      : (Array.isArray(input.manifests) ? input.manifests : [input.manifests]).map((object: unknown, i: number) => ({ file: '<inline>', doc: i + 1, object }));
  const { raw, result } = await loadObjects(
    files,
    inline,
    objects,
    manifestOptions(config, { fieldValidation: input.fieldValidation, namespace: input.namespace }),
  );
  return { ...result, raw };
}

export function mergeLoadResults(results: readonly LoadResult[]): LoadResult {
  if (results.length === 1) return results[0]!;
  const keys = [...MANIFEST_LISTS, 'skipped'] as const;
  const merged = Object.fromEntries(keys.map((k) => [k, results.flatMap((r) => (r.manifests[k] ?? []) as readonly unknown[])])) as unknown as Manifests;
  const gatewayApi = mergeGatewayObjects(results.map((r) => r.manifests.gatewayApi));
  if (gatewayApi) return { manifests: { ...merged, gatewayApi }, notices: results.flatMap((r) => r.notices) };
  return { manifests: merged, notices: results.flatMap((r) => r.notices) };
}

export async function resolveConfig(
  options: Pick<StartClusterOptions, 'configFile' | 'config' | 'nodes' | 'timeScale' | 'seed' | 'workloads'>,
): Promise<ClusterConfig> {
  const fromFile = options.configFile ? await loadConfigFile(options.configFile) : {};
  const input: ConfigInput = {
    ...fromFile,
    ...options.config,
    ...(options.nodes !== undefined ? { nodes: typeof options.nodes === 'number' ? options.nodes : [...options.nodes] } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.workloads !== undefined ? { workloads: [...(fromFile.workloads ?? []), ...options.workloads] } : {}),
  };
  return buildConfig(input, options.configFile ?? 'options');
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const config = await resolveConfig(options);
  const { manifests, notices, raw } = await readManifests(options, config);
  const embedded = await EmbeddedCluster.start({ config, manifests, log: options.log, ...(options.otlp ? { otlp: options.otlp } : {}) });
  const kube = new KubeStore(embedded, options.log);
  kube.seed(raw);
  if (options.wait !== false) await embedded.waitUntilServing(options.waitTimeoutMs ?? 30_000);
  let admin: AdminServer | undefined;
  if (options.admin !== false) {
    try {
      admin = await startAdminServer(embedded, options.admin?.host ?? '127.0.0.1', options.admin?.port ?? 0, {
        extension: createKubeApi(kube),
        ...(options.admin?.token !== undefined ? { token: options.admin.token, requireToken: true } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
    } catch (err) {
      kube.close();
      await embedded.stop();
      throw err;
    }
  }
  return new ClusterHandle(embedded, kube, admin, [...notices, ...embedded.notices]);
}

class ClusterHandle implements Cluster {
  readonly #embedded: EmbeddedCluster;
  readonly #kube: KubeStore;
  readonly #admin: AdminServer | undefined;
  #adminClosed: Promise<void> | undefined;
  readonly notices: readonly string[];

  constructor(embedded: EmbeddedCluster, kube: KubeStore, admin: AdminServer | undefined, notices: readonly string[]) {
    this.#embedded = embedded;
    this.#kube = kube;
    this.#admin = admin;
    this.notices = notices;
  }

  get config() {
    return this.#embedded.config;
  }
  get adminUrl() {
    return this.#admin?.url;
  }
  get adminToken() {
    return this.#admin?.token;
  }
  get snapshot() {
    return this.#embedded.snapshot;
  }
  get nodes() {
    return this.snapshot.nodes;
  }

  service(name: string, namespace = 'default'): ServiceHandle {
    const info = this.snapshot.services.find((s) => s.name === name && s.namespace === namespace);
    if (!info) throw new AksEmuError('AKS_EMU_NOT_FOUND', `services "${name}" not found in namespace "${namespace}"`);
    const nodes = this.snapshot.nodes;
    const pick = (port?: number | string) => {
      const p = port === undefined ? info.ports[0] : info.ports.find((x) => x.port === port || x.name === port);
      if (!p) throw new AksEmuError('AKS_EMU_NOT_FOUND', `service "${namespace}/${name}" has no port ${port ?? '(none)'}`);
      return p;
    };
    return {
      info,
      clusterIP: info.clusterIP,
      loadBalancerIP: info.loadBalancer?.ip,
      ports: info.ports.map((p) => ({ name: p.name, port: p.port, nodePort: p.nodePort })),
      nodePort(port) {
        const p = pick(port);
        if (p.nodePort === undefined)
          throw new AksEmuError('AKS_EMU_NOT_FOUND', `service "${namespace}/${name}" port ${p.port} has no NodePort (type ${info.type})`);
        return p.nodePort;
      },
      url(port, path = '/') {
        const p = pick(port);
        if (info.type === 'LoadBalancer' && info.loadBalancer?.ip) return `http://${info.loadBalancer.ip}:${p.port}${path}`;
        const node = nodes.find((n) => n.running);
        if (p.nodePort !== undefined && node) return `http://${node.address}:${p.nodePort}${path}`;
        throw new AksEmuError(
          'AKS_EMU_NOT_FOUND',
          `service "${namespace}/${name}" is not reachable from the host (type ${info.type}${info.type === 'LoadBalancer' ? ', EXTERNAL-IP <pending>' : ''}); ClusterIPs answer in-cluster clients only`,
        );
      },
    };
  }

  gateway(name: string, namespace = 'default'): GatewayHandle {
    return gatewayHandle(this.snapshot, this.#embedded.manifests, name, namespace);
  }

  pods(selector: Record<string, string> = {}, namespace = 'default'): PodInfo[] {
    return this.snapshot.pods.filter((p) => p.namespace === namespace && Object.entries(selector).every(([k, v]) => p.labels[k] === v));
  }

  pod(name: string, namespace = 'default'): PodInfo {
    const pod = this.snapshot.pods.find((p) => p.name === name && p.namespace === namespace);
    if (!pod) throw new AksEmuError('AKS_EMU_NOT_FOUND', `pods "${name}" not found in namespace "${namespace}"`);
    return pod;
  }

  stopNode(name: string) {
    return this.#embedded.stopNode(name);
  }
  startNode(name: string) {
    return this.#embedded.startNode(name);
  }
  logs(name: string, options: { container?: string; previous?: boolean; namespace?: string } = {}) {
    const { namespace = 'default', ...rest } = options;
    return this.#embedded.podLogs(namespace, name, rest);
  }
  killPod(name: string, namespace = 'default') {
    this.#embedded.crashPod(namespace, name);
  }
  setPodReady(name: string, ready: boolean | null, namespace = 'default') {
    return this.#embedded.setPodReady(`${namespace}/${name}`, ready);
  }
  probeStatus() {
    return this.#embedded.probeStatus();
  }
  serving() {
    return this.#embedded.serving();
  }
  stats() {
    return this.#embedded.stats();
  }
  metrics() {
    return this.#embedded.metrics();
  }
  traces(query: TraceQuery = {}) {
    return this.#embedded.traces(query);
  }
  followTraces(query: TraceQuery, onTrace: (trace: TraceView) => void) {
    return this.#embedded.followTraces(query, onTrace);
  }

  waitForProbe(node: string, state: 'up' | 'down', options: { service?: string; probe?: string; timeoutMs?: number } = {}): Promise<void> {
    const serviceKey = options.service === undefined ? undefined : options.service.includes('/') ? options.service : `default/${options.service}`;
    const wanted = (probe: string) =>
      (options.probe === undefined || probe === options.probe) &&
      (serviceKey === undefined || this.snapshot.loadBalancers.some((lb) => lb.rules.some((r) => r.serviceKey === serviceKey && r.probeName === probe)));
    return waitUntil(
      this.#embedded,
      ['probe', 'probe-settled', 'snapshot'],
      () => {
        const rows = this.probeStatus().filter((s) => s.node === node && wanted(s.probe));
        return rows.length > 0 && rows.every((s) => s.settled !== false && s.state === state);
      },
      options.timeoutMs ?? 30_000,
      `probe state ${state} for node ${node}`,
    );
  }

  waitFor(predicate: (snapshot: Snapshot) => boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    return waitUntil(this.#embedded, ['snapshot'], () => predicate(this.snapshot), options.timeoutMs ?? 30_000, options.what ?? 'condition');
  }

  addFault(fault: FaultInput): Promise<Fault> {
    return this.#embedded.addFault(fault);
  }
  faults(): Fault[] {
    return this.#embedded.faults();
  }
  removeFault(id: string): Promise<Fault> {
    return this.#embedded.removeFault(id);
  }
  clearFaults(): Promise<Fault[]> {
    return this.#embedded.clearFaults();
  }

  async waitForFault(id: string, times: number, options: { timeoutMs?: number } = {}): Promise<Fault> {
    // A fault that is gone (removed, expired) ends the wait: fault(id) then rejects with NotFound.
    const fired = () => this.#embedded.faults().find((f) => f.id === id)?.fired ?? Number.POSITIVE_INFINITY;
    await waitUntil(this.#embedded, ['fault'], () => fired() >= times, options.timeoutMs ?? 30_000, `fault ${id} to fire ${times} times`);
    return this.#embedded.fault(id);
  }

  waitForPool(node: string, inPool: boolean, options: { service?: string; timeoutMs?: number } = {}): Promise<void> {
    return this.waitForProbe(node, inPool ? 'up' : 'down', options);
  }

  waitForEndpoints(service: string, count: number, options: { namespace?: string; port?: string | number; timeoutMs?: number } = {}): Promise<void> {
    const key = `${options.namespace ?? 'default'}/${service}`;
    const ready = () => {
      const info = this.snapshot.services.find((s) => `${s.namespace}/${s.name}` === key);
      const port = options.port === undefined ? info?.ports[0] : info?.ports.find((p) => p.name === options.port || p.port === options.port);
      const endpoints = this.snapshot.endpoints.find((e) => e.serviceKey === key)?.ports.find((p) => p.name === port?.name);
      return (endpoints?.usable ?? []).filter((e) => e.ready).length;
    };
    return waitUntil(this.#embedded, ['snapshot'], () => ready() === count, options.timeoutMs ?? 30_000, `${count} ready endpoints of service ${key}`);
  }

  distribution(service: string, options: { namespace?: string; port?: string | number; since?: EndpointDistribution } = {}): EndpointDistribution {
    return endpointDistribution(this.snapshot, this.stats().servicePorts, `${options.namespace ?? 'default'}/${service}`, options.port, options.since);
  }

  async apply(input: { files?: string | readonly string[]; manifests?: string | object | readonly object[] }) {
    const { raw } = await readManifests(input, this.#embedded.config);
    await this.#kube.replace(raw);
  }

  async stop(options: StopOptions = {}) {
    this.#kube.close();
    const embedded = this.#embedded.stop(options);
    this.#adminClosed ??= this.#admin?.close();
    await this.#adminClosed;
    await embedded;
  }
}

/** Re-checks on the named events; never sleeps blindly. */
function waitUntil(emitter: EmbeddedCluster, events: readonly string[], check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onEvent = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new AksEmuError('AKS_EMU_NOT_FOUND', `timed out after ${timeoutMs} ms waiting for ${what}`, { status: 408 }));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      for (const e of events) emitter.off(e, onEvent);
    };
    for (const e of events) emitter.on(e, onEvent);
  });
}
