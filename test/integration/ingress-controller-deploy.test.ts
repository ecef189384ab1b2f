/**
 * The ingress controller as users deploy it on AKS: the "internal ingress" tutorial's
 * Helm values (release namespace ingress-basic, internal LB, externalTrafficPolicy Local,
 * a fixed loadBalancerIP), the same settings brought as the user's own controller Service,
 * and the controller ConfigMap's keys changing traffic live through kubectl.
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { kubectl, kubectlAvailable, tempKubeconfig } from '../helpers/kubectl.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { generateSelfSignedCertificate } from '../../src/dataplane/ingress/self-signed-cert.js';
import { echo } from '../helpers/net.js';
import { helloWorldApp, INTERNAL_ANNOTATION, PROBE_PATH_ANNOTATION, tutorialIngress, userControllerService } from '../fixtures/aks-ingress-tutorial.js';

/** One request on a fresh connection (TLS with SNI `host` for https); resolves with the status and headers. */
function send(
  scheme: 'http' | 'https',
  ip: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const options = { method: 'GET', agent: false as const, localAddress: '127.0.0.10', headers: { host, connection: 'close', ...headers } };
    const done = (res: IncomingMessage) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    };
    const req =
      scheme === 'https'
        ? httpsRequest(`https://${ip}${path}`, { ...options, servername: host, rejectUnauthorized: false }, done)
        : httpRequest(`http://${ip}${path}`, options, done);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/** A host with TLS (its own certificate) and a path to a Service that does not exist. */
async function tlsSite(): Promise<string> {
  const pair = await generateSelfSignedCertificate({ commonName: 'hello.example', dnsNames: ['hello.example'], keyType: 'ec' });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: { name: hello-tls }
type: kubernetes.io/tls
data: { tls.crt: ${b64(pair.certPem)}, tls.key: ${b64(pair.keyPem)} }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: hello-tls }
spec:
  ingressClassName: nginx
  tls: [{ hosts: [hello.example], secretName: hello-tls }]
  rules:
  - host: hello.example
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: aks-helloworld-one, port: { number: 80 } } } }
      - { path: /gone, pathType: Prefix, backend: { service: { name: gone, port: { number: 80 } } } }
`;
}

/** A POST with a body of `bytes` bytes; resolves with the status. */
function post(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, localAddress: '127.0.0.10', headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(Buffer.alloc(bytes, 'a'));
  });
}

/** The tutorial's two hello-world apps and its Ingress: regex paths under pathType Prefix, no host. */
const APPS = `${helloWorldApp('aks-helloworld-one')}---\n${helloWorldApp('aks-helloworld-two')}---\n${tutorialIngress(false)}`;

function strictOff(namespace: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: { name: ingress-nginx-controller, namespace: ${namespace} }
data: { strict-validate-path-type: "false" }
`;
}

/** Every node with a Ready controller pod is up on the controller's probes, the others down (ETP Local). */
async function waitForLocalProbes(cluster: Cluster, namespace: string, service: string): Promise<{ up: string[]; down: string[] }> {
  await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  const withPod = new Set(cluster.pods({}, namespace).map((p) => p.nodeName));
  const up = cluster.nodes.map((n) => n.name).filter((n) => withPod.has(n));
  const down = cluster.nodes.map((n) => n.name).filter((n) => !withPod.has(n));
  for (const node of up) await cluster.waitForProbe(node, 'up', { service: `${namespace}/${service}` });
  for (const node of down) await cluster.waitForProbe(node, 'down', { service: `${namespace}/${service}` });
  return { up, down };
}

describe("the AKS internal-ingress tutorial's Helm values in aks-emu.yaml", () => {
  const addresses = addressBlock(22);
  const ip = addresses.nodeSubnet.replace('0.0/16', '0.200');
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: `${APPS}---\n${strictOff('ingress-basic')}`,
      config: {
        addresses,
        ingress: {
          namespace: 'ingress-basic',
          values: {
            controller: {
              replicaCount: 2,
              podLabels: { team: 'edge' },
              service: {
                loadBalancerIP: ip,
                externalTrafficPolicy: 'Local',
                annotations: { [INTERNAL_ANNOTATION]: 'true', [PROBE_PATH_ANNOTATION]: '/healthz' },
              },
            },
          },
        },
      },
      timeScale: 1 / 20,
      seed: 5,
    });
  });
  afterAll(() => cluster?.stop());

  it('installs the controller in the release namespace behind an internal frontend on the requested IP', () => {
    const svc = cluster.service('ingress-nginx-controller', 'ingress-basic');
    expect(svc.info).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(svc.info.loadBalancer).toMatchObject({ internal: true, ip });
    expect(cluster.snapshot.services.filter((s) => s.name === 'ingress-nginx-controller')).toHaveLength(1);
    const pods = cluster.pods({ team: 'edge' }, 'ingress-basic');
    expect(pods).toHaveLength(2);
  });

  it('probes kube-proxy on the healthCheckNodePort, so the start-up notice has nothing to say about /healthz and probes agree', async () => {
    const { up, down } = await waitForLocalProbes(cluster, 'ingress-basic', 'ingress-nginx-controller');
    expect(up.length).toBeGreaterThan(0);
    expect(up.length + down.length).toBe(cluster.nodes.length);
    const svc = cluster.service('ingress-nginx-controller', 'ingress-basic').info;
    const probes = cluster.snapshot.loadBalancers.flatMap((lb) => lb.probes).filter((p) => p.port === svc.healthCheckNodePort);
    expect(probes.length).toBeGreaterThan(0);
    expect(cluster.notices.filter((n) => n.includes('LB health probes'))).toEqual([]);
  });

  it('routes the regex paths under pathType Prefix and keeps the client address (externalTrafficPolicy Local)', async () => {
    await waitForLocalProbes(cluster, 'ingress-basic', 'ingress-nginx-controller');
    const one = await echo(`http://${ip}/hello-world-one/abc`, { localAddress: '127.0.0.9' });
    expect(one.pod).toMatch(/^aks-helloworld-one-/);
    expect(one.path).toBe('/abc');
    expect((one.headers as Record<string, string[]>)['X-Real-Ip']).toEqual(['127.0.0.9']);
    const two = await echo(`http://${ip}/hello-world-two`, { localAddress: '127.0.0.9' });
    expect(two.pod).toMatch(/^aks-helloworld-two-/);
  });
});

describe.runIf(kubectlAvailable())("the user's own controller Service, and the controller ConfigMap applied live", () => {
  const addresses = addressBlock(23);
  const ip = addresses.nodeSubnet.replace('0.0/16', '0.201');
  let cluster: Cluster;
  let kubeconfig: string;

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: `${APPS}---\n${strictOff('ingress-nginx')}---\n${userControllerService('ingress-nginx', ip)}---\n${await tlsSite()}`,
      config: { addresses },
      timeScale: 1 / 20,
      seed: 6,
    });
    kubeconfig = tempKubeconfig(cluster.adminUrl!, cluster.adminToken!);
    await waitForLocalProbes(cluster, 'ingress-nginx', 'ingress-nginx-controller');
  });
  afterAll(() => cluster?.stop());

  it('replaces the built-in Service: one Service, one UID, one frontend and one rule per port', async () => {
    const named = cluster.snapshot.services.filter((s) => s.namespace === 'ingress-nginx' && s.name === 'ingress-nginx-controller');
    expect(named).toHaveLength(1);
    expect(named[0]?.source.file).not.toContain('built-in');
    const rules = cluster.snapshot.loadBalancers.flatMap((lb) => lb.rules).filter((r) => r.serviceKey === 'ingress-nginx/ingress-nginx-controller');
    expect(rules.map((r) => r.frontendPort).sort()).toEqual([443, 80]);
    expect(new Set(rules.map((r) => r.frontendIP))).toEqual(new Set([ip]));
    const listed = await kubectl(kubeconfig, [
      'get',
      'svc',
      '-n',
      'ingress-nginx',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.metadata.uid}{"\\n"}{end}',
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    // The API's uid is the one cloud-provider-azure names the frontend after (`a` + the uid without dashes, 32 characters).
    expect(listed.stdout.trim().split('\n')).toEqual([`ingress-nginx-controller ${named[0]!.uid}`]);
    expect(rules[0]?.frontendName).toBe(`a${named[0]!.uid.replace(/-/g, '')}`.slice(0, 32));
    // The Ingresses publish the address of the Service in the built-in one's place.
    const status = await kubectl(kubeconfig, ['get', 'ingress', 'hello-world-ingress', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    expect(status.stdout).toBe(ip);
  });

  it('applies use-forwarded-headers, compute-full-forwarded-for, hsts-max-age, proxy-body-size and custom-http-errors when the ConfigMap changes', async () => {
    const url = `http://${ip}/hello-world-one/x`;
    const spoof = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' };
    const before = await echo(url, { localAddress: '127.0.0.10', headers: spoof });
    const h = (e: Record<string, unknown>) => e.headers as Record<string, string[] | undefined>;
    expect(h(before)['X-Real-Ip']).toEqual(['127.0.0.10']);
    expect(h(before)['X-Forwarded-For']).toEqual(['127.0.0.10']);
    expect(h(before)['X-Forwarded-Proto']).toEqual(['http']);
    // ssl-redirect for a TLS host, whatever the client claims; HSTS with the defaults; 503 for a missing Service.
    expect((await send('http', ip, '/', 'hello.example', { 'x-forwarded-proto': 'https' })).status).toBe(308);
    expect((await send('https', ip, '/', 'hello.example')).headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect((await send('https', ip, '/gone', 'hello.example')).status).toBe(503);

    const applied = await kubectl(
      kubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ConfigMap
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
data:
  strict-validate-path-type: "false"
  use-forwarded-headers: "true"
  compute-full-forwarded-for: "true"
  hsts-max-age: "600"
  proxy-body-size: 1k
  custom-http-errors: "503"
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    const probesBefore = cluster.probeStatus().map((p) => `${p.probe} ${p.node} ${p.state}`);
    await expect
      .poll(async () => h(await echo(url, { localAddress: '127.0.0.10', headers: spoof }))['X-Real-Ip'], { timeout: 10_000 })
      .toEqual(['203.0.113.9']);
    const after = await echo(url, { localAddress: '127.0.0.10', headers: spoof });
    expect(h(after)['X-Forwarded-For']).toEqual(['203.0.113.9, 127.0.0.10']);
    expect(h(after)['X-Forwarded-Proto']).toEqual(['https']);
    // A ConfigMap change renames no frontend and resets no probe: the node without a controller pod stays out.
    expect(cluster.probeStatus().map((p) => `${p.probe} ${p.node} ${p.state}`)).toEqual(probesBefore);

    expect(await post(url, 2048)).toBe(413);
    expect(await post(url, 512)).toBe(200);

    // A TLS proxy in front said https: no redirect; without that claim, the redirect stays.
    expect((await send('http', ip, '/', 'hello.example', { 'x-forwarded-proto': 'https' })).status).toBe(200);
    expect((await send('http', ip, '/', 'hello.example')).status).toBe(308);
    expect((await send('https', ip, '/', 'hello.example')).headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
    // The fake default certificate is no certificate of the host's own: no HSTS (as ingress-nginx).
    expect((await send('https', ip, '/hello-world-one/', 'nobody.example')).headers['strict-transport-security']).toBeUndefined();
    // custom-http-errors 503: the error goes to the default backend, whose answer is 404.
    expect((await send('https', ip, '/gone', 'hello.example')).status).toBe(404);

    // ssl-redirect "false" is the default of every location without the annotation.
    const noRedirect = await kubectl(
      kubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ConfigMap
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
data: { strict-validate-path-type: "false", use-forwarded-headers: "true", ssl-redirect: "false" }
`,
    );
    expect(noRedirect.code, noRedirect.stderr).toBe(0);
    await expect.poll(async () => (await send('http', ip, '/', 'hello.example')).status, { timeout: 10_000 }).toBe(200);
  });

  it('refuses a bad value naming the ConfigMap and key, and keeps the applied settings', async () => {
    const bad = await kubectl(
      kubeconfig,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ConfigMap
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
data: { strict-validate-path-type: "false", use-forwarded-headers: "yes" }
`,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('data[use-forwarded-headers]');
    expect(bad.stderr).toContain("cannot parse 'use-forwarded-headers' as bool");
    const still = await echo(`http://${ip}/hello-world-one/x`, { localAddress: '127.0.0.10', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect((still.headers as Record<string, string[]>)['X-Real-Ip']).toEqual(['203.0.113.9']);
  });
});

describe("the tutorial's Ingress with its catch-all /(.*) behind the default controller Service (probes over HTTP on /healthz)", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    const manifests = `${helloWorldApp('aks-helloworld-one')}---\n${helloWorldApp('aks-helloworld-two')}---\n${tutorialIngress(true)}---\n${strictOff('ingress-nginx')}`;
    cluster = await startCluster({ manifests, config: { addresses: addressBlock(11) }, timeScale: 1 / 20, seed: 7 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod to be Ready' });
  });
  afterAll(() => cluster?.stop());

  it('says the probes reach the Service behind ^/(.*), and they are up because it answers 200', async () => {
    const notice = cluster.notices.find((n) => n.startsWith('Service ingress-nginx/ingress-nginx-controller: its LB health probes'));
    expect(notice).toContain('GET /healthz');
    expect(notice).toContain(
      'proxies /healthz to Service default/aks-helloworld-one (matched by regex ^/(.*) (case-insensitive) of Ingress default/hello-world-ingress',
    );
    expect(notice).toContain('a node is up only while that Service answers with 200');
    // Every probe of the controller's rules has answered (settled) and holds every node up.
    const rules = new Set(
      cluster.snapshot.loadBalancers.flatMap((lb) => lb.rules.filter((r) => r.serviceKey === 'ingress-nginx/ingress-nginx-controller').map((r) => r.probeName)),
    );
    await expect
      .poll(
        () =>
          cluster
            .probeStatus()
            .filter((p) => rules.has(p.probe))
            .map((p) => `${p.node} ${p.state} ${p.settled ? 'settled' : 'unsettled'}`)
            .sort(),
        {
          timeout: 20_000,
        },
      )
      .toEqual(cluster.nodes.flatMap((n) => [...rules].map(() => `${n.name} up settled`)).sort());
    const ip = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const seen = await echo(`http://${ip}/healthz`);
    expect(seen.pod).toMatch(/^aks-helloworld-one-/);
  });
});
