import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo, httpGet } from '../helpers/net.js';

const MANIFESTS = `
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
  type: LoadBalancer
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: api }
spec:
  ingressClassName: nginx
  rules:
    - host: api.example.com
      http:
        paths: [{ path: /, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }]
`;

async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[]; written: string }> {
  const out: string[] = [];
  const err: string[] = [];
  let written = '';
  const code = await main(
    args,
    (l) => out.push(l),
    (l) => err.push(l),
    (chunk) => (written += chunk.toString()),
  );
  return { code, out, err, written };
}

describe('aks-emu trace and aks-emu logs on the ingress controller', () => {
  let cluster: Cluster;
  let server: string;
  let ingressIP: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(23) }, timeScale: 1 / 20 });
    for (const node of cluster.nodes) {
      await cluster.waitForProbe(node.name, 'up', { service: 'default/api' });
      await cluster.waitForProbe(node.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' });
    }
    server = cluster.adminUrl!;
    ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
  });
  afterAll(() => cluster?.stop());

  it('prints the latest connections of a Service hop by hop', async () => {
    const seen = await echo(cluster.service('api').url());
    const { code, out } = await cli(['trace', '--service', 'default/api', '--kind', 'tcp', '--last', '1', '--server', server]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      new RegExp(
        `^#\\d+ tcp [\\d:.]+ 127\\.0\\.0\\.1:\\d+ → lb ${cluster.service('api').loadBalancerIP}:80 → rule \\S+ → node \\S+ → kube-proxy default/api → \\S+ pod/${seen.pod} \\(source ${seen.remoteAddress}, hand-over\\) · closed`,
      ),
    );
  });

  it('prints JSON lines with -o json, HTTP requests with their route', async () => {
    await httpGet(`http://${ingressIP}/hello`, { headers: { host: 'api.example.com' } });
    const { code, out } = await cli(['trace', '-s', 'api', '--kind', 'http', '--last', '1', '-o', 'json', '--server', server]);
    expect(code).toBe(0);
    const view = JSON.parse(out[0]!) as { kind: string; status: number; hops: { hop: string; route?: string }[] };
    expect([view.kind, view.status, view.hops[0]]).toEqual([
      'http',
      200,
      expect.objectContaining({ hop: 'ingress-rule', kind: 'Ingress', route: 'default/api' }),
    ]);
    const text = await cli(['trace', '-s', 'api', '--kind', 'http', '--last', '1', '--server', server]);
    expect(text.out[0]).toMatch(
      /^#\d+ http [\d:.]+ \S+ "GET \/hello HTTP\/1\.1" host api\.example\.com via ingress-nginx\/\S+ → Ingress default\/api \/ → upstream default-api-80 → \S+ pod\/api-\S+ 200 · 200 /,
    );
  });

  it('follows with -f, printing each trace as it ends', async () => {
    const lines: string[] = [];
    let got: () => void = () => {};
    const first = new Promise<void>((resolve) => (got = resolve));
    const following = main(['trace', '-f', '-s', 'default/api', '--kind', 'tcp', '--server', server], (l) => {
      lines.push(l);
      got();
    }).catch((err: unknown) => err);
    // Until the stream is open nothing is printed; each new connection may be the first one it sees.
    for (let i = 0; i < 50 && lines.length === 0; i++) {
      await echo(cluster.service('api').url());
      await Promise.race([first, new Promise((r) => setImmediate(r))]);
    }
    expect(lines[0]).toMatch(/^#\d+ tcp .* · closed/);
    void following;
  });

  it('shows the controller access log with aks-emu logs -n ingress-nginx deploy/ingress-nginx-controller', async () => {
    const first = cluster.pods({}, 'ingress-nginx')[0]!;
    // kubectl (and aks-emu) pick the Deployment's first pod; the LB decides which pod a request reaches.
    for (let i = 0; i < 30 && !cluster.logs(first.name, { namespace: 'ingress-nginx' }).includes('/from-logs-test'); i++) {
      await httpGet(`http://${ingressIP}/from-logs-test`, { headers: { host: 'api.example.com', 'user-agent': 'logs-test' } });
    }
    const { code, written } = await cli(['logs', '-n', 'ingress-nginx', 'deploy/ingress-nginx-controller', '--server', server]);
    expect(code).toBe(0);
    const line = written.split('\n').find((l) => l.includes('"GET /from-logs-test HTTP/1.1"'));
    expect(line).toMatch(
      /^\S+ - - \[[^\]]+\] "GET \/from-logs-test HTTP\/1\.1" 200 \d+ "-" "logs-test" \d+ \d+\.\d{3} \[default-api-80\] \[\] \S+:8080 \d+ \d+\.\d{3} 200 [0-9a-f]{32}$/,
    );
  });

  it('refuses bad flags naming them', async () => {
    for (const [args, flag] of [
      [['--last', '0'], '--last'],
      [['--kind', 'udp'], '--kind'],
      [['-o', 'yaml'], '-o'],
      [['--bogus'], '--bogus'],
    ] as const) {
      const { code, err } = await cli(['trace', ...args, '--server', server]);
      expect(code, args.join(' ')).toBe(1);
      expect(err.join('\n')).toContain(flag);
    }
    const bad = await cli(['trace', '--service', 'Bad_Name', '--server', server]);
    expect([bad.code, bad.err.join('')]).toEqual([1, expect.stringContaining('service')]);
  });
});
