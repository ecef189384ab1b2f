/**
 * One measurement of how aks-emu scales with the size of a cluster, in a fresh process (a
 * child of the harness, so its start-up, RSS and CPU are its own): N Services with 3 echo
 * pods each, every other one a LoadBalancer. It times start-up to serving (startCluster
 * resolved and the last LB Service answering), then, as asked, idle CPU over a window and
 * the time from a live change (apply of one new LB Service) to traffic on its frontend.
 * The bundled example (examples/store) is measured the same way, as a test suite pays it.
 */
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BASELINE_ADDRESSES } from './baseline-addresses.js';
import { announce, exitWithParent, serveParent } from './ipc.js';
import { SCALE_MAX_PODS, scaleManifests, scaleNodes, type ScaleJob, type ScaleMeasure } from './cluster-scale.js';

const SERVE_TIMEOUT_MS = 180_000;
const POLL_MS = 2;
/** How long, after the last frontend answered, the cluster may take to report serving(). */
const SERVED_SETTLE_MS = 30_000;

/** One GET with a fresh connection; resolves with the status, or 0 when it failed. */
function get(host: string, port: number, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls until the predicate holds (true) or the budget is spent (false). */
async function until(predicate: () => boolean | Promise<boolean>, budgetMs: number): Promise<boolean> {
  const deadline = Date.now() + budgetMs;
  while (!(await predicate())) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}

function untilAnswers(host: string, port: number, budgetMs: number): Promise<boolean> {
  return until(async () => (await get(host, port, 500)) === 200, budgetMs);
}

async function peakRssBytes(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
}

async function main(): Promise<ScaleMeasure> {
  const job = JSON.parse(process.env.AKS_EMU_PERF_SCALE ?? '{}') as ScaleJob;
  const started = performance.now();
  const { startCluster } = await import('../src/index.js');
  const imported = performance.now();
  const example = job.kind === 'example';
  const cluster = await startCluster({
    ...(example ? { files: fileURLToPath(new URL('../examples/store/', import.meta.url)) } : { manifests: scaleManifests(job.services, job.allLoadBalancer) }),
    // The scale clusters run on the baseline build's ranges: a /16 pod range holds 15,000 pods.
    // As many nodes as the pods need at AKS's highest max-pods, so that every pod is scheduled.
    ...(example ? {} : { config: { addresses: BASELINE_ADDRESSES, maxPods: SCALE_MAX_PODS }, nodes: scaleNodes(job.services) }),
    timeScale: job.timeScale,
    seed: 1,
    // The live change goes through the Kubernetes API, as `kubectl apply` of one Service would;
    // the example starts as a user's test file starts it, with startCluster's defaults (admin API on).
    ...(example ? {} : { admin: job.liveChange ? {} : false }),
    waitTimeoutMs: SERVE_TIMEOUT_MS,
  });
  const resolved = performance.now();
  const frontends = cluster.snapshot.services.filter((s) => s.type === 'LoadBalancer' && s.namespace === 'default');
  const last = frontends.at(-1);
  const lbIP = last === undefined ? undefined : cluster.service(last.name, last.namespace).loadBalancerIP;
  const answered = lbIP === undefined ? false : await untilAnswers(lbIP, last!.ports[0]!.port, SERVE_TIMEOUT_MS);
  const serving = performance.now();
  // serving() turns false while a probe attempt is out on a node that has not settled yet, so
  // one read right after the answer can catch that moment: wait (bounded) for the state itself.
  const served = answered && (await until(() => cluster.serving(), SERVED_SETTLE_MS));
  const result: ScaleMeasure = {
    job,
    importMs: imported - started,
    startClusterMs: resolved - imported,
    servingMs: serving - imported,
    served,
    pods: cluster.snapshot.pods.length,
    nodes: cluster.nodes.length,
    services: cluster.snapshot.services.length,
  };
  let idle: ScaleMeasure['idle'];
  if (job.idleWindowS !== undefined) {
    // Settle first: the first probe rounds and the pods' readiness are start-up, not idle.
    await new Promise((r) => setTimeout(r, (job.settleS ?? 5) * 1000));
    const cpu = process.cpuUsage();
    const t = performance.now();
    await new Promise((r) => setTimeout(r, job.idleWindowS! * 1000));
    const used = process.cpuUsage(cpu);
    const wallS = (performance.now() - t) / 1000;
    idle = { windowS: wallS, cpuShare: (used.user + used.system) / 1e6 / wallS };
  }
  let change: ScaleMeasure['change'];
  if (job.liveChange) {
    const t = performance.now();
    const res = await fetch(`${cluster.adminUrl}/api/v1/namespaces/default/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'live-change', namespace: 'default' },
        spec: { type: 'LoadBalancer', selector: { app: 'app-0' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      }),
    });
    if (res.status !== 201) throw new Error(`POST of the live-change Service: HTTP ${res.status}: ${await res.text()}`);
    const applied = performance.now();
    await cluster.waitFor((snap) => snap.services.some((svc) => svc.name === 'live-change' && svc.loadBalancer !== undefined), {
      timeoutMs: 30_000,
      what: 'the live-change Service has a frontend',
    });
    const ip = cluster.service('live-change').loadBalancerIP;
    const ok = ip !== undefined && (await untilAnswers(ip, 80, 30_000));
    change = { applyMs: applied - t, trafficMs: performance.now() - t, ok };
  }
  const measure: ScaleMeasure = { ...result, peakRssBytes: await peakRssBytes(), ...(idle ? { idle } : {}), ...(change ? { change } : {}) };
  await cluster.stop();
  return measure;
}

// The harness closes the channel when it has the figures (or gives up); the process then exits.
exitWithParent(async () => {});
serveParent({ stop: () => true });
main().then(
  (measure) => announce('measured', measure),
  (err: unknown) => announce('failed', err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
);
