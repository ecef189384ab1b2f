import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressBlock } from '../helpers/addresses.js';
import { connectOutcome } from '../helpers/net.js';

const BIN = new URL('../../bin/aks-emu.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Starts `aks-emu up` and resolves once it prints its admin address. */
function startUp(args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    // up merges a kubectl context into $KUBECONFIG: never the user's own file.
    const child = spawn(process.execPath, [BIN, 'up', ...args], { env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') } });
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('Press Ctrl+C to stop.')) resolve({ child, output: () => out });
    });
    child.stderr!.on('data', (c) => (out += c));
    child.on('close', (code) => reject(new Error(`aks-emu up exited with ${code}:\n${out}`)));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'aks-emu-cli-'));
const manifests = join(dir, 'app.yaml');
writeFileSync(
  manifests,
  `apiVersion: v1
kind: Pod
metadata: { name: shell, labels: { app: shell } }
spec:
  containers: [{ name: shell, image: busybox }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: api, ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: front }
spec:
  type: LoadBalancer
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: settings }
`,
);
const configFile = join(dir, 'aks-emu.yaml');
const addresses = addressBlock(2);
writeFileSync(
  configFile,
  `addresses:\n${Object.entries(addresses)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')}\nseed: 3\nadmin: 127.0.0.1:17070\ningress: { enabled: false }\n`,
);

describe('aks-emu up, get and curl', () => {
  let up: Awaited<ReturnType<typeof startUp>>;
  const server = ['--server', '127.0.0.1:17070'];

  beforeAll(async () => {
    up = await startUp(['-f', manifests, '--config', configFile]);
  });
  afterAll(() => {
    up?.child.kill('SIGTERM');
  });

  it('prints the services as kubectl get svc -A would, and a notice for the skipped ServiceAccount', () => {
    const out = up.output();
    expect(out).toMatch(/skipping ServiceAccount "settings"/);
    expect(out).toMatch(/NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
    expect(out).toMatch(/default\s+front\s+LoadBalancer\s+127\.138\.\d+\.\d+\s+127\.139\.0\.\d+\s+80:3\d{4}\/TCP/);
    expect(out).toMatch(/default\s+api\s+ClusterIP\s+127\.138\.\d+\.\d+\s+<none>\s+80\/TCP/);
  });

  it('prints where the dashboard is, and the page answers there', async () => {
    const url = /^dashboard: (\S+)$/m.exec(up.output())?.[1];
    expect(url).toBe('http://127.0.0.1:17070/dashboard');
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script src="/dashboard/app.js" defer></script>');
  });

  it('get svc -o json returns a ServiceList with clusterIP, nodePort and the LB ingress IP', async () => {
    const { code, stdout } = await run(['get', 'svc', '-o', 'json', ...server]);
    expect(code).toBe(0);
    const list = JSON.parse(stdout);
    expect(list.kind).toBe('ServiceList');
    const front = list.items.find((s: { metadata: { name: string } }) => s.metadata.name === 'front');
    expect(front.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(front.status.loadBalancer.ingress[0].ip).toMatch(/^127\.139\./);
  });

  it('get pods -o wide shows each pod with its IP and node', async () => {
    const { code, stdout } = await run(['get', 'pods', '-o', 'wide', ...server]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(stdout).toMatch(/api-\S+\s+1\/1\s+Running\s+0\s+\S+\s+127\.137\.\d+\.\d+\s+aks-nodepool1-12345678-vmss00000\d/);
  });

  it('curl --from a pod reaches a ClusterIP Service by its DNS name; the host is refused', async () => {
    const got = await run(['get', 'pod', 'shell', '-o', 'json', ...server]);
    expect(got.stderr).toBe('');
    const pods = JSON.parse(got.stdout);
    const pod = pods.metadata.name;
    const { code, stdout } = await run(['curl', '--from', `pod/${pod}`, 'http://api.default.svc.cluster.local/hello?x=1', ...server]);
    expect(code).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.path).toBe('/hello?x=1');
    expect(body.remoteAddress).toBe(pods.status.podIP);
    const svc = JSON.parse((await run(['get', 'svc', 'api', '-o', 'json', ...server])).stdout);
    expect(await connectOutcome(svc.spec.clusterIP, 80)).not.toBe('connected');
  });

  it('get nodes lists three Ready AKS-named nodes', async () => {
    const { stdout } = await run(['get', 'nodes', ...server]);
    expect(stdout.trim().split('\n').slice(1)).toHaveLength(3);
    expect(stdout).toMatch(/aks-nodepool1-12345678-vmss000000\s+Ready/);
  });

  it('stops cleanly on SIGTERM and releases the admin address', async () => {
    const closed = new Promise((r) => up.child.on('close', r));
    up.child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(await connectOutcome('127.0.0.1', 17070)).toBe('ECONNREFUSED');
  });
});

describe('aks-emu errors', () => {
  it('names the flag of a bad value', async () => {
    const { code, stderr } = await run(['up', '-f', manifests, '--nodes', 'three']);
    expect(code).toBe(1);
    expect(stderr).toContain('invalid value "three" for flag --nodes');
  });

  it('names an unknown flag', async () => {
    const { code, stderr } = await run(['get', 'svc', '--colour']);
    expect(code).toBe(1);
    expect(stderr).toContain('unknown flag: --colour');
  });

  it('validate reports every invalid field at once with file, document and object', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `apiVersion: v1
kind: Service
metadata: { name: a }
spec:
  type: NodePort
  ports: [{ port: 80, nodePort: 30080 }, { port: 81 }]
---
apiVersion: v1
kind: Service
metadata: { name: b }
spec:
  type: NodePort
  ports: [{ port: 80, nodePort: 30090 }]
---
apiVersion: v1
kind: Service
metadata: { name: c }
spec:
  type: NodePort
  ports: [{ port: 80, nodePort: 30090 }]
`,
    );
    const { code, stderr } = await run(['validate', '-f', bad]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${bad} (document 1): The Service "a" is invalid: spec.ports[0].name: Required value`);
    expect(stderr).toContain(
      `${bad} (document 3): The Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 30090: provided port is already allocated`,
    );
  });

  it('tells where the admin API was looked for when nothing runs there', async () => {
    const { code, stderr } = await run(['get', 'svc', '--server', '127.0.0.1:17071']);
    expect(code).toBe(1);
    expect(stderr).toContain('cannot reach the aks-emu admin API at http://127.0.0.1:17071');
  });
});
