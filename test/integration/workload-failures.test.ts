import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import type { PodInfo } from '../../src/cluster/snapshot.js';
import { addressBlock } from '../helpers/addresses.js';

// Each Deployment's image maps to a command that misbehaves in one way; `good` is healthy.
const deployment = (name: string, extra = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: ${name}
          image: test/${name}:1
          ports: [{ containerPort: 8080 }]
${extra}
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  type: LoadBalancer
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
---`;

const SERVE = `require('http').createServer((q, s) => s.end('ok ' + process.pid)).listen(process.env.PORT, () => console.log('up'))`;
const node = (code: string) => ['node', '-e', code];

const MANIFESTS = [
  deployment('good'),
  deployment('missing'),
  deployment('exits'),
  deployment('silent', '          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }'),
  deployment('stubborn'),
  deployment('flood'),
  deployment('execok', `          readinessProbe: { exec: { command: [sh, -c, 'test -n "$PORT" && test "$HOSTNAME" != ""'] }, periodSeconds: 1 }`),
  deployment('execfail', `          readinessProbe: { exec: { command: [sh, -c, 'echo not yet; exit 1'] }, periodSeconds: 1 }`),
].join('\n');

const WORKLOADS = [
  { image: 'test/good*', command: node(SERVE) },
  { image: 'test/missing*', command: ['aks-emu-no-such-command', '--serve'] },
  { image: 'test/exits*', command: node(`console.error('bad config'); process.exit(3)`) },
  { image: 'test/silent*', command: node(`console.log('never listening'); setInterval(() => {}, 1000)`) },
  { image: 'test/stubborn*', command: node(`process.on('SIGTERM', () => console.log('ignoring SIGTERM')); ${SERVE}`) },
  { image: 'test/exec*', command: node(SERVE) },
  {
    image: 'test/flood*',
    command: node(
      `const line = 'x'.repeat(200) + '\\n'; ${SERVE}; (function go() { for (let i = 0; i < 500; i++) process.stdout.write(line); setImmediate(go); })()`,
    ),
  },
];

/** A running process's identity: its pid and start time (a pid of a process that exited may be reused by another). */
const running = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : `${pid}@${fields[19]}`;
  } catch {
    return undefined;
  }
};
const alive = (pid: number) => running(pid) !== undefined;

describe('process pods that misbehave', () => {
  let cluster: Cluster;
  const lines: string[] = [];
  const pod = (app: string): PodInfo => cluster.pods({ app })[0]!;
  const state = (app: string) => pod(app).containerStatuses?.[0];

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: MANIFESTS,
      workloads: WORKLOADS,
      config: { addresses: addressBlock(19) },
      timeScale: 0.05,
      wait: false,
      log: (line) => lines.push(line),
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('reports a command that does not exist as StartError, then CrashLoopBackOff', async () => {
    await cluster.waitFor((s) => (s.pods.find((p) => p.labels.app === 'missing')?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, { timeoutMs: 20_000 });
    expect(state('missing')?.lastState).toMatchObject({
      terminated: { reason: 'StartError', exitCode: 128, message: 'exec: "aks-emu-no-such-command": executable file not found in $PATH' },
    });
    expect(lines.some((l) => l.includes('executable file not found'))).toBe(true);
  });

  it('puts a process that exits at once into CrashLoopBackOff with its restarts counted', async () => {
    await cluster.waitFor(
      (s) => {
        const c = s.pods.find((p) => p.labels.app === 'exits')?.containerStatuses?.[0];
        return c !== undefined && c.restartCount >= 1 && 'waiting' in c.state && c.state.waiting.reason === 'CrashLoopBackOff';
      },
      { timeoutMs: 20_000, what: 'CrashLoopBackOff' },
    );
    expect(state('exits')?.lastState).toMatchObject({ terminated: { reason: 'Error', exitCode: 3 } });
    expect(pod('exits').ready).toBe(false);
    expect(cluster.logs(pod('exits').name, { previous: true })).toContain('bad config');
  });

  it('keeps a process that never opens its port unready, and says why', async () => {
    await cluster.waitFor(() => lines.some((l) => l.includes(pod('silent').name) && l.includes('not listening on PORT=')), { timeoutMs: 20_000 });
    expect(pod('silent').ready).toBe(false);
    expect(state('silent')?.state).toHaveProperty('running');
  });

  it('runs exec readiness probes in the container environment and acts on them', async () => {
    await cluster.waitFor(() => pod('execok').ready, { timeoutMs: 20_000, what: 'the exec probe to pass' });
    expect(state('execfail')?.state).toHaveProperty('running');
    // Treated as passing (as on the echo pod), it would be Ready by now, as execok is.
    expect(pod('execfail').ready).toBe(false);
  });

  it('keeps the memory of a flooding process bounded', async () => {
    const name = pod('flood').name;
    await cluster.waitFor(() => cluster.logs(name).length > 900_000, { timeoutMs: 20_000, what: 'a full log ring' });
    expect(cluster.logs(name).length).toBeLessThanOrEqual(1024 * 1024);
  });

  it('serves the healthy pod while the others fail', async () => {
    await cluster.waitFor(() => pod('good').ready, { timeoutMs: 20_000 });
    const res = await fetch(cluster.service('good').url());
    expect(await res.text()).toMatch(/^ok \d+$/);
  });

  it('kills a process that ignores SIGTERM after its grace period, and stops without leaving processes', async () => {
    await cluster.waitFor(() => state('stubborn')?.pid !== undefined, { timeoutMs: 20_000 });
    // The processes running now (a crash-looping container's last pid may already be gone, and reused).
    const processes = cluster.snapshot.pods.flatMap((p) => {
      const pid = p.containerStatuses?.[0]?.pid;
      const id = pid === undefined ? undefined : running(pid);
      return id === undefined ? [] : [{ pid: pid!, id }];
    });
    const stubborn = state('stubborn')!.pid!;
    await cluster.stop();
    expect(lines.some((l) => l.includes('ignoring SIGTERM'))).toBe(true);
    expect(lines.some((l) => l.includes('did not exit within terminationGracePeriodSeconds'))).toBe(true);
    expect(alive(stubborn)).toBe(false);
    expect(processes.filter((p) => running(p.pid) === p.id)).toEqual([]);
  });
});
