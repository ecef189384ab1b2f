import { describe, expect, it } from 'vitest';
import { runScaleJob, scaleJobs, scaleListeners, scaleManifests, scaleNodes, type ScaleMeasure, type ScaleRun } from '../cluster-scale.js';
import { clusterScaleGoals } from '../report/goals.js';

type Obj = { kind: string; metadata: { name: string }; spec: { type?: string; replicas?: number } };

function measured(job: ScaleRun['job'], m: Partial<ScaleMeasure>): ScaleRun {
  return {
    job,
    measure: { job, importMs: 900, startClusterMs: 400, servingMs: 450, served: true, pods: 3, nodes: 3, services: 1, peakRssBytes: 100 * 2 ** 20, ...m },
  };
}

describe('cluster-size rows', () => {
  it('makes one Deployment of 3 pods per Service, every other Service a LoadBalancer unless all are asked for', () => {
    const objects = scaleManifests(4) as Obj[];
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.spec.replicas)).toEqual([3, 3, 3, 3]);
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.spec.type)).toEqual(['ClusterIP', 'LoadBalancer', 'ClusterIP', 'LoadBalancer']);
    expect((scaleManifests(3, true) as Obj[]).filter((o) => o.kind === 'Service').every((o) => o.spec.type === 'LoadBalancer')).toBe(true);
  });

  it('gives the cluster enough nodes for every pod at 250 pods a node, and at least 3', () => {
    expect([10, 100, 1000, 5000].map(scaleNodes)).toEqual([3, 3, 13, 61]);
  });

  it('counts the listening sockets a size needs, and says why a size beyond the open-file limit is not run', async () => {
    const job = (services: number) => ({ kind: 'services', services, timeScale: 0.01, liveChange: true }) as const;
    // 500 LoadBalancer NodePorts on 13 nodes, 1,000 ClusterIPs, 500 frontends, 3,000 pods, 13 healthz.
    expect(scaleListeners(job(1000))).toBe(11_013);
    expect(scaleListeners(job(5000))).toBe(2500 * 61 + 5000 + 2500 + 15_000 + 61);
    expect(scaleListeners({ kind: 'example', services: 0, timeScale: 0.01 })).toBe(0);
    const run = await runScaleJob(job(5000), { fileLimit: 20_000 });
    expect(run.measure).toBeUndefined();
    expect(run.unavailable).toMatch(/needs about 175061 listening sockets .* above the open-file limit of \d+/);
  });

  it('runs the example, each size with a live change, and idle CPU with the Services asked for', () => {
    const jobs = scaleJobs([10, 5000], { idleWindowS: 20, idleServices: 300 });
    expect(jobs.map((j) => [j.kind, j.services, j.timeScale, j.liveChange ?? false, j.idleWindowS ?? 0, j.allLoadBalancer ?? false])).toEqual([
      ['example', 0, 0.01, false, 0, false],
      ['services', 10, 0.01, true, 0, false],
      ['services', 5000, 0.01, true, 0, false],
      ['services', 300, 1, false, 20, true],
    ]);
    expect(scaleJobs([], { idleWindowS: 20, idleServices: 300 })).toEqual([]);
    expect(scaleJobs([100], { idleWindowS: 0, idleServices: 300 }).some((j) => j.idleWindowS !== undefined)).toBe(false);
  });

  it('judges the goals at 1,000 Services and for the example, N/A for what did not run', () => {
    const big = { kind: 'services', services: 1000, timeScale: 0.01, liveChange: true } as const;
    const goals = clusterScaleGoals([
      measured({ kind: 'example', services: 0, timeScale: 0.01 }, { startClusterMs: 800 }),
      measured(big, { servingMs: 2500, peakRssBytes: 400 * 2 ** 20, change: { applyMs: 20, trafficMs: 150, ok: true } }),
      { job: { kind: 'services', services: 1000, timeScale: 1, idleWindowS: 20 }, unavailable: 'EMFILE' },
    ]);
    const status = Object.fromEntries(goals.map((g) => [g.text.split(':')[1]!.trim(), g.status]));
    expect(status).toEqual({
      '1,000 Services serving at timeScale 0.01': 'PASS',
      '1,000 Services peak RSS': 'FAIL',
      'idle CPU with 1,000 LoadBalancer Services at real probe timings': 'N/A',
      'a live change (POST of one LB Service) to traffic at 1,000 Services': 'PASS',
      'startCluster() for examples/store at timeScale 0.01': 'FAIL',
    });
    expect(goals.find((g) => g.text.includes('idle CPU'))?.text).toContain('EMFILE');
  });
});
