/**
 * TIME_WAIT left by the LB health probes (issue 13, item 8): a cluster of N nodes with
 * R load-balancing rules (each with a TCP probe on its NodePort), run for a bounded
 * time, sampling `ss -tan state time-wait` every 10 s. Run it in a network namespace of
 * its own, where the count is the cluster's alone:
 *
 *   ip netns exec NS node --import tsx perf/soak-time-wait.ts [--nodes 20] [--rules 100] [--time-scale 0.2] [--seconds 150]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

import { startCluster } from '../src/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    rules: { type: 'string', default: '100' },
    'time-scale': { type: 'string', default: '0.2' },
    seconds: { type: 'string', default: '150' },
  },
});
const nodes = Number(values.nodes);
const rules = Number(values.rules);
const timeScale = Number(values['time-scale']);
const seconds = Number(values.seconds);
const PORTS_PER_SERVICE = 10;

function timeWaits(): number {
  const ss = spawnSync('ss', ['-tan', 'state', 'time-wait'], { encoding: 'utf8' });
  if (ss.status !== 0) throw new Error(`ss failed: ${ss.stderr}`);
  return Math.max(0, ss.stdout.trim().split('\n').length - 1);
}

function manifests(): string {
  const docs = [
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${nodes}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web, ports: [{ containerPort: 8080 }] }] }`,
  ];
  for (let s = 0; s * PORTS_PER_SERVICE < rules; s++) {
    const count = Math.min(PORTS_PER_SERVICE, rules - s * PORTS_PER_SERVICE);
    const ports = Array.from({ length: count }, (_, i) => `    - { name: p${i}, port: ${8000 + i}, targetPort: 8080 }`).join('\n');
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: web-${s} }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports:
${ports}`);
  }
  return docs.join('\n---\n');
}

const before = timeWaits();
const cluster = await startCluster({ manifests: manifests(), nodes, timeScale, seed: 1, admin: false, config: { ingress: { enabled: false } } });
const probeTargets = cluster.probeStatus().length;
const intervalMs = Math.max(100, 5000 * timeScale);
process.stdout.write(
  `${nodes} nodes x ${cluster.snapshot.loadBalancers.reduce((n, lb) => n + lb.rules.length, 0)} rules: ${probeTargets} probe targets, one attempt each every ${intervalMs} ms, for ${seconds} s (TIME_WAIT before start: ${before})\n`,
);
let peak = 0;
const started = Date.now();
while (Date.now() - started < seconds * 1000) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, seconds * 1000 - (Date.now() - started))));
  const count = timeWaits();
  peak = Math.max(peak, count);
  const probes = cluster.probeStatus().reduce((n, s) => n + s.probes, 0);
  const down = cluster.probeStatus().filter((s) => s.state === 'down').length;
  process.stdout.write(`t=${Math.round((Date.now() - started) / 1000)} s: TIME_WAIT ${count}, probe attempts ${probes}, targets down ${down}\n`);
}
const attempts = cluster.probeStatus().reduce((n, s) => n + s.probes, 0);
await cluster.stop();
process.stdout.write(`result: ${attempts} probe attempts, TIME_WAIT peak ${peak}, at the end ${timeWaits()}\n`);
