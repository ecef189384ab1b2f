/**
 * The command line as a user meets it: strict field validation in validate, up and the
 * --watch reload; `up -n NS`; LoadBalancer Services that cannot get a frontend saying why
 * (warning line, SyncLoadBalancerFailed event, `get svc`); a start without probe noise;
 * a second `up` on the same addresses refused in one line that names the holder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addressBlock } from '../helpers/addresses.js';

const BIN = new URL('../../bin/aks-emu.js', import.meta.url).pathname;
const addresses = addressBlock(22);
const appsSubnet = addressBlock(23).nodeSubnet.replace('.0.0/16', '.5.0/24');
const dir = mkdtempSync(join(tmpdir(), 'aks-emu-up-strict-'));
const kubeconfig = join(dir, 'kubeconfig');
const configFile = join(dir, 'aks-emu.yaml');
const admin = `${addresses.nodeSubnet.replace('.0.0/16', '.200.200')}:7070`;
const A = 'service.beta.kubernetes.io/';

const service = (name: string, annotations: Record<string, string> = {}, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  annotations: ${JSON.stringify(annotations)}
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]${extra}
`;

const app = [
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: web
        image: web
        ports: [{ containerPort: 8080 }]
        # Pods start NotReady, so the start has something to wait for.
        readinessProbe: { httpGet: { path: /, port: 8080 }, initialDelaySeconds: 5, periodSeconds: 5 }
`,
  service('web'),
  service('outside', { [`${A}azure-load-balancer-ipv4`]: '10.9.9.9' }),
  service('apps', { [`${A}azure-load-balancer-internal`]: 'true', [`${A}azure-load-balancer-internal-subnet`]: 'apps-subnet' }),
  service('nosubnet', { [`${A}azure-load-balancer-internal`]: 'true', [`${A}azure-load-balancer-internal-subnet`]: 'db-subnet' }),
].join('---\n');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('validate: strict field validation and -n', () => {
  const misspelt = () => write('misspelt.yaml', service('web', {}, '\n  externalTraficPolicy: Local\n  selecter: { app: web }'));

  it('refuses unknown fields in kubectl strict decoding words, naming file, document and object', async () => {
    const { code, stderr } = await run(['validate', '-f', misspelt()]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `error: ${join(dir, 'misspelt.yaml')} (document 1): Service "web": strict decoding error: unknown field "spec.externalTraficPolicy"`,
      `error: ${join(dir, 'misspelt.yaml')} (document 1): Service "web": strict decoding error: unknown field "spec.selecter"`,
    ]);
  });

  it('warns instead with --validate=warn, and refuses a bad --validate value naming the flag', async () => {
    const warn = await run(['validate', '-f', misspelt(), '--validate=warn']);
    expect(warn.code).toBe(0);
    expect(warn.stdout).toContain(`warning: ${join(dir, 'misspelt.yaml')} (document 1): Service "web": unknown field "spec.externalTraficPolicy"`);
    const bad = await run(['validate', '-f', misspelt(), '--validate', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid - validate option "maybe"; must be one of: strict (or true), warn, ignore (or false)');
  });

  it('accepts a set whose LoadBalancer Services cannot all get a frontend, saying why for each', async () => {
    const file = write('pending.yaml', [service('web'), service('outside', { [`${A}azure-load-balancer-ipv4`]: '10.9.9.9' })].join('---\n'));
    const { code, stdout } = await run(['validate', '-f', file]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'warning: Service default/outside: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address 10.9.9.9',
    );
    expect(stdout).toContain('valid: 2 Services');
  });

  it('refuses an object whose namespace is not the -n one, in kubectl words', async () => {
    const file = write('other.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: other }\n');
    const { code, stderr } = await run(['validate', '-f', file, '-n', 'shop']);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `${file} (document 1): the namespace from the provided object "other" does not match the namespace "shop". You must pass '--namespace=other' to perform this operation.`,
    );
  });
});

describe('up -n shop, with Services that cannot get a frontend', () => {
  let child: ChildProcess;
  let out = '';
  let started = '';
  const file = join(dir, 'app.yaml');
  const token = () => parse(readFileSync(kubeconfig, 'utf8')).users.find((u: { name: string }) => u.name === 'aks-emu').user.token as string;

  beforeAll(async () => {
    writeFileSync(file, app);
    writeFileSync(
      configFile,
      `addresses:\n${Object.entries(addresses)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}\nadmin: ${admin}\ningress: { enabled: false }\nsubnets: { apps-subnet: ${appsSubnet} }\n`,
    );
    child = spawn(process.execPath, [
      BIN,
      'up',
      '-f',
      file,
      '-n',
      'shop',
      '--config',
      configFile,
      '--watch',
      '--time-scale',
      '0.05',
      '--kubeconfig',
      kubeconfig,
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('Watching the manifest files')) resolve();
      });
      child.stderr!.on('data', (c) => (out += c));
      child.on('close', (code) => reject(new Error(`up exited with ${code}:\n${out}`)));
    });
    started = out;
  }, 60_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('puts the objects without a namespace in shop', async () => {
    const { code, stdout } = await run(['get', 'svc', '-n', 'shop', '--server', admin]);
    expect(code).toBe(0);
    expect(stdout.split('\n').map((l) => l.split(/\s+/)[0])).toEqual(expect.arrayContaining(['web', 'outside', 'apps', 'nosubnet']));
  });

  it('gives the subnet name of aks-emu.yaml its own range', async () => {
    const { stdout } = await run(['get', 'svc', 'apps', '-n', 'shop', '-o', 'json', '--server', admin]);
    expect(JSON.parse(stdout).status.loadBalancer.ingress[0].ip).toBe(appsSubnet.replace('.0/24', '.4'));
  });

  it('says once in the log why each pending Service has no frontend', () => {
    const lines = started.split('\n');
    expect(lines.filter((l) => l.includes('Service shop/outside: EXTERNAL-IP stays <pending>'))).toEqual([
      'warning: Service shop/outside: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address 10.9.9.9 in resource group mc_aks-emu (public frontends come from ' +
        `${addresses.publicFrontends})`,
    ]);
    expect(lines.filter((l) => l.includes('Service shop/nosubnet:'))).toEqual([
      'warning: Service shop/nosubnet: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: ensure(shop/nosubnet): lb(kubernetes-internal) - failed to get subnet: aks-vnet/db-subnet (aks-emu.yaml subnets: has aks-subnet, apps-subnet)',
    ]);
  });

  it('records one SyncLoadBalancerFailed event per pending Service, and get svc shows it', async () => {
    const res = await fetch(`http://${admin}/api/v1/namespaces/shop/events`, { headers: { authorization: `Bearer ${token()}` } });
    const events = ((await res.json()) as { items: { reason: string; involvedObject: { name: string }; count: number }[] }).items;
    const failed = events.filter((e) => e.reason === 'SyncLoadBalancerFailed').map((e) => [e.involvedObject.name, e.count]);
    expect(failed.sort()).toEqual([
      ['nosubnet', 1],
      ['outside', 1],
    ]);
    const { stdout } = await run(['get', 'svc', '-n', 'shop', '--server', admin], { AKS_EMU_TOKEN: token() });
    expect(stdout).toMatch(/^outside\s+LoadBalancer\s+\S+\s+<pending>/m);
    expect(stdout).toContain('shop/outside: <pending>: Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP');
    expect(stdout).toContain('shop/nosubnet: <pending>: Error syncing load balancer: failed to ensure load balancer: ensure(shop/nosubnet)');
  });

  it('starts with a progress line and a probe summary, not a line per probe result', () => {
    expect(started).toMatch(/^starting: \d+\/\d+ pods Ready/m);
    expect(started).toMatch(/^LB probes: \d+ up/m);
    expect(started).not.toMatch(/^probe .* is (down|up)$/m);
  });

  it('refuses a reload with a misspelt field, changing nothing', async () => {
    writeFileSync(file, app.replace('  ports: [{ port: 80, targetPort: 8080 }]', '  ports: [{ port: 80, targetport: 8080 }]'));
    await expect.poll(() => out, { timeout: 20_000 }).toContain('not applied (nothing changed)');
    expect(out).toContain('strict decoding error: unknown field "spec.ports[0].targetport"');
  });

  it('refuses a second up on the same addresses in one line naming the address and its holder, exit 1', async () => {
    const second = await run(['up', '-f', file, '-n', 'shop', '--config', configFile, '--validate=ignore', '--no-kubeconfig']);
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^error: 127\\.\\d+\\.\\d+\\.\\d+:\\d+ \\(.+\\) is already in use by process ${child.pid} \\(.*aks-emu.* up .*\\); another aks-emu runs on these addresses`,
      ),
    );
    expect(second.stderr).not.toMatch(/^\s+at /m);
  });
});
