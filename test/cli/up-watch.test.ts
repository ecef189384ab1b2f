import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addressBlock } from '../helpers/addresses.js';

const BIN = new URL('../../bin/aks-emu.js', import.meta.url).pathname;

// The upper half of each /16 of block 17; test/integration/client-node.test.ts takes the lower half.
const addresses = Object.fromEntries(Object.entries(addressBlock(17)).map(([k, v]) => [k, v.replace('.0.0/16', '.128.0/17')]));
const dir = mkdtempSync(join(tmpdir(), 'aks-emu-up-watch-'));
const file = join(dir, 'app.yaml');
const kubeconfig = join(dir, 'kubeconfig');
const configFile = join(dir, 'aks-emu.yaml');
const admin = `${addresses.nodeSubnet!.replace('.128.0/17', '.200.200')}:7070`;

const app = (replicas: number, nodePort = 30080) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: ${replicas}
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
  type: NodePort
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080, nodePort: ${nodePort} }]
`;

async function podCount(token: string): Promise<number> {
  const res = await fetch(`http://${admin}/api/v1/namespaces/default/pods?labelSelector=app%3Dapi`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { items: unknown[] }).items.length;
}

describe('aks-emu up --watch and the kubeconfig it writes', () => {
  let child: ChildProcess;
  let out = '';

  beforeAll(async () => {
    writeFileSync(file, app(2));
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: "https://other.example"}}]\nusers: [{name: other, user: {token: x}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n',
    );
    writeFileSync(
      configFile,
      `addresses:\n${Object.entries(addresses)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}\nadmin: ${admin}\ningress: { enabled: false }\n`,
    );
    child = spawn(process.execPath, [BIN, 'up', '-f', file, '--config', configFile, '--watch', '--kubeconfig', kubeconfig], {
      env: { ...process.env, KUBECONFIG: join(dir, 'never-written') },
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('Watching the manifest files')) resolve();
      });
      child.stderr!.on('data', (c) => (out += c));
      child.on('close', (code) => reject(new Error(`up exited with ${code}:\n${out}`)));
    });
  }, 60_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('merges the aks-emu context into the given kubeconfig, keeping the others', () => {
    const config = parse(readFileSync(kubeconfig, 'utf8'));
    expect(config.contexts.map((c: { name: string }) => c.name)).toEqual(['other', 'aks-emu']);
    expect(config.clusters.find((c: { name: string }) => c.name === 'aks-emu').cluster.server).toBe(`http://${admin}`);
    expect(config['current-context']).toBe('aks-emu');
  });

  it('re-applies a changed file, and refuses an invalid change with nothing changed', async () => {
    const token = parse(readFileSync(kubeconfig, 'utf8')).users.find((u: { name: string }) => u.name === 'aks-emu').user.token as string;
    expect(await podCount(token)).toBe(2);
    writeFileSync(file, app(3));
    await expect.poll(() => podCount(token), { timeout: 20_000 }).toBe(3);
    writeFileSync(file, app(1, 29999));
    await expect.poll(() => out, { timeout: 20_000 }).toContain('not applied (nothing changed)');
    expect(out).toContain('provided port is not in the valid range');
    expect(await podCount(token)).toBe(3);
  });
});
