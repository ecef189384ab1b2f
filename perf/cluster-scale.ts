/**
 * The cluster-size rows: each measurement in a fresh aks-emu process
 * (cluster-scale-process.ts), one after another, so that one's pages and timers do not
 * land in the next one's figures.
 */
import { readFile } from 'node:fs/promises';
import { spawnChild } from './ipc.js';
import { parseHardFileLimit } from './proc-stats.js';

export interface ScaleJob {
  readonly kind: 'services' | 'example';
  /** Services (3 pods each, every other one a LoadBalancer); 0 for the bundled example. */
  readonly services: number;
  readonly timeScale: number;
  /** Measure idle CPU over this many seconds once serving (after settleS). */
  readonly idleWindowS?: number;
  readonly settleS?: number;
  /** Time an apply of one new LB Service until its frontend answers. */
  readonly liveChange?: boolean;
  /** Every Service a LoadBalancer (the idle-CPU job), not every other one. */
  readonly allLoadBalancer?: boolean;
}

export interface ScaleMeasure {
  readonly job: ScaleJob;
  /** Loading aks-emu's modules (a test file pays it once). */
  readonly importMs: number;
  /** startCluster() until it resolved (it waits for serving). */
  readonly startClusterMs: number;
  /** From startCluster() until the last LB Service's frontend answered a request. */
  readonly servingMs: number;
  readonly served: boolean;
  readonly pods: number;
  readonly nodes: number;
  readonly services: number;
  readonly peakRssBytes?: number;
  /** Share of one core used while idle. */
  readonly idle?: { readonly windowS: number; readonly cpuShare: number };
  readonly change?: { readonly applyMs: number; readonly trafficMs: number; readonly ok: boolean };
}

export interface ScaleRun {
  readonly job: ScaleJob;
  readonly measure?: ScaleMeasure;
  readonly unavailable?: string;
}

const REPLICAS = 3;
/** AKS's highest --max-pods (Azure CNI): a node takes at most this many pods. */
export const SCALE_MAX_PODS = 250;
/** Pods aks-emu runs besides the Services' own (the ingress controller's, with room to spare). */
const SYSTEM_PODS = 10;

/** Enough nodes for every pod at SCALE_MAX_PODS a node, and never fewer than AKS's default 3. */
export function scaleNodes(services: number): number {
  return Math.max(3, Math.ceil((services * REPLICAS + SYSTEM_PODS) / SCALE_MAX_PODS));
}

/** N Services, each with a Deployment of 3 echo pods; every other Service a LoadBalancer. */
export function scaleManifests(services: number, allLoadBalancer = false): object[] {
  const objects: object[] = [];
  for (let i = 0; i < services; i++) {
    const app = `app-${i}`;
    objects.push(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: app, namespace: 'default' },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: { containers: [{ name: 'echo', image: 'registry.k8s.io/ingressconformance/echoserver:v0.0.1', ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: 'default' },
        spec: { type: allLoadBalancer || i % 2 === 1 ? 'LoadBalancer' : 'ClusterIP', selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
    );
  }
  return objects;
}

/**
 * Listening sockets a scale cluster opens, all in the one aks-emu process: each
 * LoadBalancer Service's NodePort on every node, a ClusterIP and a frontend per Service
 * port, each echo pod on its own address, kube-proxy's healthz per node. 1,000 Services
 * need about 11,000; 5,000 need about 175,000 (2,500 NodePorts on 61 nodes).
 */
export function scaleListeners(job: ScaleJob): number {
  if (job.kind !== 'services') return 0;
  const loadBalancers = job.allLoadBalancer ? job.services : Math.floor(job.services / 2);
  const nodes = scaleNodes(job.services);
  return loadBalancers * nodes + job.services + loadBalancers + job.services * REPLICAS + nodes;
}

/** Descriptors besides the listeners: the admin API, the probes and requests in flight, modules. */
const FD_HEADROOM = 1_000;

const JOB_TIMEOUT_MS = 300_000;

export async function runScaleJob(job: ScaleJob, options: { cpus?: string; fileLimit: number }): Promise<ScaleRun> {
  // The child raises its open-file limit to fileLimit, or to the hard limit when that is lower.
  const hard = parseHardFileLimit(await readFile('/proc/self/limits', 'utf8')) ?? options.fileLimit;
  const limit = Math.min(options.fileLimit, hard);
  const listeners = scaleListeners(job);
  if (listeners + FD_HEADROOM > limit) {
    return {
      job,
      unavailable: `needs about ${listeners} listening sockets in one process (each LoadBalancer Service's NodePort on each of ${scaleNodes(job.services)} nodes), above the open-file limit of ${limit}: raise the hard limit (ulimit -Hn)`,
    };
  }
  const child = spawnChild({
    entry: './cluster-scale-process.ts',
    fileLimit: options.fileLimit,
    ...(options.cpus ? { cpus: options.cpus } : {}),
    env: { AKS_EMU_PERF_SCALE: JSON.stringify(job) },
  });
  try {
    const { name, data } = await child.awaitNotice(['measured', 'failed'], JOB_TIMEOUT_MS);
    return name === 'measured' ? { job, measure: data as ScaleMeasure } : { job, unavailable: String(data) };
  } catch (err) {
    return { job, unavailable: (err as Error).message };
  } finally {
    await child.stop();
  }
}

/** The size the goals are stated for (serving, RSS, idle CPU, live change). */
export const GOAL_SERVICES = 1000;

/**
 * The jobs of a run: the bundled example; start-up and a live change at each size; idle
 * CPU with `idleServices` Services, all LoadBalancers, at real probe timings.
 */
export function scaleJobs(sizes: readonly number[], options: { idleWindowS: number; idleServices: number }): ScaleJob[] {
  if (sizes.length === 0) return [];
  return [
    { kind: 'example', services: 0, timeScale: 0.01 },
    ...sizes.map((services): ScaleJob => ({ kind: 'services', services, timeScale: 0.01, liveChange: true })),
    ...(options.idleWindowS > 0 && options.idleServices > 0
      ? [
          {
            kind: 'services',
            services: options.idleServices,
            timeScale: 1,
            idleWindowS: options.idleWindowS,
            settleS: 10,
            allLoadBalancer: true,
          } satisfies ScaleJob,
        ]
      : []),
  ];
}
