/**
 * The pods one place runs, as kubelet keeps them: the embedded cluster runs every node's
 * pods, a node container its own. reconcile() starts what the snapshot runs there (each
 * through the pod-kind registry), updates what stays and stops what goes; one
 * ReadinessProber plays kubelet's prober for them all.
 */
import { clusterRecords, type DnsRecord } from '../cluster/dns.js';
import { EventEmitter } from 'node:events';
import type { ContainerStatusInfo, PodInfo, Snapshot } from '../cluster/snapshot.js';
import { realClock, type Clock } from '../dataplane/clock.js';
import { buildRouter, type Router } from '../dataplane/ingress/index.js';
import type { LocalEndpoint, LocalEndpoints } from '../dataplane/l4/local-endpoints.js';
import { netpolGate } from '../dataplane/netpol-gate.js';
import { createPodRuntime, type ContainerPodFactory, type PodKindContext } from './kinds/index.js';
import { GatewayRouters } from './gateway.js';
import type { FaultHolder } from '../faults/compile.js';
import type { PodRuntime } from './pod-runtime.js';
import type { L7Observe } from '../dataplane/observe/l7-observe.js';
import { ReadinessProber, type ReadinessEvent } from './readiness/readiness-prober.js';

export interface PodSetEvents {
  readiness: [ReadinessEvent];
  /** A pod this set ran is stopped (gone from the snapshot, or its node stopped). */
  removed: [string];
  notice: [string];
  /** A pod runtime that supervises containers reports new statuses. */
  status: [string, ContainerStatusInfo[]];
}

export interface PodSetOptions {
  readonly clock?: Clock;
  readonly timeScale: number;
  log(line: string): void;
  /** Where `container` pods run (a node container with a Docker engine). */
  readonly containers?: ContainerPodFactory;
  /** The trace store and route counters the L7 pods report to. */
  readonly observe?: L7Observe;
  /** Active faults, handed to the L7 pods. */
  readonly faults?: FaultHolder;
  /** Where the cluster DNS listens (the embedded runtime's kube-dns), for process pods' resolver. */
  clusterDns?(): { readonly address: string; readonly port: number } | undefined;
}

export const podKey = (pod: { readonly namespace: string; readonly name: string }): string => `${pod.namespace}/${pod.name}`;

export class PodSet extends EventEmitter<PodSetEvents> {
  readonly #pods = new Map<string, PodRuntime>();
  /** Running pod runtimes by pod IP: the data plane hands flows to in-process ones (the hop collapse). */
  readonly #byIp = new Map<string, PodRuntime>();
  readonly #prober: ReadinessProber;
  readonly #options: PodSetOptions;
  #nodes = new Map<string, string>();
  #snapshot: Snapshot | undefined;
  /** The DNS records of #snapshot, computed once per snapshot for every process pod's name table. */
  #records: { readonly snapshot: Snapshot; readonly records: readonly DnsRecord[] } | undefined;
  #router: { readonly config: unknown; readonly router: Router } | undefined;
  readonly #gateways = new GatewayRouters();

  /** For the data plane: an endpoint of a pod served in this process, else undefined (dialled). */
  readonly localEndpoints: LocalEndpoints = {
    lookup: (ip: string, port: number): LocalEndpoint | undefined => this.#byIp.get(ip)?.localEndpoint?.(port),
  };

  /**
   * What every pod's context holds alike, made once: 3,000 pods each with their own copies
   * of these functions held 1.5 MiB (under tsx, which names each closure it makes).
   */
  readonly #shared: Omit<PodKindContext, 'nodeName' | 'nodeAddress' | 'statusChanged'>;

  constructor(options: PodSetOptions) {
    super();
    this.#options = options;
    this.#shared = {
      getRouter: () => this.#router?.router,
      gateways: this.#gateways,
      clock: options.clock ?? realClock,
      timeScale: options.timeScale,
      log: options.log,
      ...(options.containers === undefined ? {} : { containers: options.containers }),
      ...(options.observe === undefined ? {} : { observe: options.observe }),
      ...(options.faults === undefined ? {} : { faults: options.faults }),
      ...(options.clusterDns === undefined ? {} : { clusterDns: () => options.clusterDns?.() }),
      services: () => this.#snapshot?.services ?? [],
      networkPolicy: () => netpolGate(this.#snapshot),
      dnsRecords: () => this.#dnsRecords(),
    };
    this.#prober = new ReadinessProber({
      ...(options.clock ? { clock: options.clock } : {}),
      timeScale: options.timeScale,
      // kubelet probes from the node, so a pod sees its node's address as the probe's source.
      sourceAddress: (pod) => this.#nodes.get(pod.nodeName),
      exec: {
        supports: (pod) => this.#pods.get(podKey(pod))?.execProbe !== undefined,
        run: (pod, container, command, timeoutMs, done) => this.#pods.get(podKey(pod))!.execProbe!(container, command, timeoutMs, done),
      },
    });
    this.#prober.on('readiness', (event) => {
      if (this.#pods.has(event.podKey)) this.emit('readiness', event);
    });
    this.#prober.on('notice', (line) => this.emit('notice', line));
  }

  /** The ingress controller's router for the latest snapshot (undefined with the controller off). */
  get router(): Router | undefined {
    return this.#router?.router;
  }

  /** The router a Gateway's pods use on a listener port. */
  gatewayRouter(gateway: string, port: number): Router {
    return this.#gateways.routerFor(gateway, port);
  }

  get(key: string): PodRuntime | undefined {
    return this.#pods.get(key);
  }

  /** A pod forced unready fails its health endpoints too, so its probes agree with the override. */
  setHealthy(key: string, healthy: boolean): void {
    this.#pods.get(key)?.setHealthy(healthy);
  }

  #dnsRecords(): readonly DnsRecord[] {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) return [];
    if (this.#records?.snapshot !== snapshot) this.#records = { snapshot, records: clusterRecords(snapshot) };
    return this.#records.records;
  }

  /**
   * Runs the snapshot's Running pods for which `runsHere` holds; `forced` gives readiness
   * forced through the admin API. Rejects with the first pod that failed to start.
   */
  async reconcile(snapshot: Snapshot, runsHere: (pod: PodInfo) => boolean, forced: (key: string) => boolean | undefined): Promise<void> {
    this.#snapshot = snapshot;
    this.#nodes = new Map(snapshot.nodes.map((n) => [n.name, n.address]));
    const config = snapshot.ingress?.config;
    if (config !== undefined && config !== this.#router?.config) this.#router = { config, router: buildRouter(config) };
    this.#gateways.update(snapshot.gateway);
    const running = new Set(snapshot.nodes.filter((n) => n.running).map((n) => n.name));
    const wanted = new Map<string, PodInfo>();
    for (const pod of snapshot.pods) {
      if (pod.phase === 'Running' && running.has(pod.nodeName) && runsHere(pod)) wanted.set(podKey(pod), pod);
    }
    const stops: Promise<void>[] = [];
    for (const [key, runtime] of this.#pods) {
      if (wanted.get(key)?.runtime.kind === runtime.pod.runtime.kind) continue;
      this.#pods.delete(key);
      if (this.#byIp.get(runtime.pod.ip) === runtime) this.#byIp.delete(runtime.pod.ip);
      this.#prober.unwatch(key);
      this.emit('removed', key);
      stops.push(runtime.stop());
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const [key, pod] of wanted) {
      const existing = this.#pods.get(key);
      if (existing) {
        existing.update(pod);
        continue;
      }
      const runtime: PodRuntime = createPodRuntime(pod, {
        ...this.#shared,
        nodeName: pod.nodeName,
        nodeAddress: this.#nodes.get(pod.nodeName),
        statusChanged: () => {
          if (this.#pods.get(key) === runtime) this.emit('status', key, runtime.containerStatuses?.() ?? []);
        },
      });
      if (forced(key) === false) runtime.setHealthy(false);
      this.#pods.set(key, runtime);
      this.#byIp.set(pod.ip, runtime);
      starts.push(runtime.start().then(() => this.#prober.watch(pod)));
    }
    const failed = (await Promise.allSettled(starts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * A crash: a process pod's processes are killed (kubelet restarts them with its back-off);
   * any other pod closes its listeners and connections and starts again after restartAfterMs.
   */
  async crash(key: string, restartAfterMs: number, restarted: () => void): Promise<void> {
    const runtime = this.#pods.get(key);
    if (runtime === undefined) return;
    if (runtime.crash !== undefined) {
      runtime.crash();
      return;
    }
    await runtime.stop();
    const clock = this.#options.clock ?? realClock;
    clock.setTimeout(() => {
      if (this.#pods.get(key) !== runtime) return;
      runtime.start().then(restarted, (err: unknown) => this.emit('notice', `pod ${key}: restart after crash failed: ${(err as Error).message}`));
    }, restartAfterMs);
  }

  /** True when the pod's processes are supervised (kubelet restarts them), false when crash() restarts it after a delay. */
  supervised(key: string): boolean {
    return this.#pods.get(key)?.crash !== undefined;
  }

  async stop(): Promise<void> {
    this.#prober.stop();
    const pods = [...this.#pods.values()];
    this.#pods.clear();
    this.#byIp.clear();
    await Promise.allSettled(pods.map((p) => p.stop()));
  }
}
