/**
 * The cluster-size rows: each measurement in a fresh aks-emu process
 * (cluster-scale-process.ts), one after another, so that one's pages and timers do not
 * land in the next one's figures.
 */
import { spawnChild } from './ipc.js';

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

const JOB_TIMEOUT_MS = 300_000;

export async function runScaleJob(job: ScaleJob, options: { cpus?: string; fileLimit: number }): Promise<ScaleRun> {
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
 * The jobs of a run: the bundled example; start-up at each size, with a live change at
 * the largest; idle CPU with the largest size all LoadBalancers at real probe timings.
 */
export function scaleJobs(sizes: readonly number[], options: { idleWindowS: number }): ScaleJob[] {
  if (sizes.length === 0) return [];
  const largest = Math.max(...sizes);
  return [
    { kind: 'example', services: 0, timeScale: 0.01 },
    ...sizes.map((services): ScaleJob => ({ kind: 'services', services, timeScale: 0.01, ...(services === largest ? { liveChange: true } : {}) })),
    ...(options.idleWindowS > 0
      ? [
          {
            kind: 'services',
            services: Math.min(largest, GOAL_SERVICES),
            timeScale: 1,
            idleWindowS: options.idleWindowS,
            settleS: 10,
            allLoadBalancer: true,
          } satisfies ScaleJob,
        ]
      : []),
  ];
}
