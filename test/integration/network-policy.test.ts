import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo, httpGet } from '../helpers/net.js';

const APP = `
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { team: shop } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: front, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: front } }
  template:
    metadata: { labels: { app: front } }
    spec:
      containers: [{ name: front, image: front, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: api, ports: [{ name: web, containerPort: 3000 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: front, namespace: shop }
spec:
  type: LoadBalancer
  selector: { app: front }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: web }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: front
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/proxy-connect-timeout: "1"
    nginx.ingress.kubernetes.io/proxy-next-upstream-tries: "1"
spec:
  ingressClassName: nginx
  rules:
    - host: front.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: front, port: { number: 80 } } }
`;

const DENY_ALL = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;

const ALLOW = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: front-from-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: front } }
  ingress:
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ingress-nginx } }
      ports: [{ port: http }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-from-front, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress:
    - from: [{ podSelector: { matchLabels: { app: front } } }]
      ports: [{ port: 3000 }]
`;

const FRONT_EGRESS = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: front-egress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: front } }
  policyTypes: [Egress]
  egress:
    - to: [{ ipBlock: { cidr: 0.0.0.0/0, except: [${addressBlock(11).podCIDR}] } }]
`;

/** The usual "from the ingress controller" rule, by the labels ingress-nginx's deploy manifests put on its Namespace. */
const FRONT_FROM_CONTROLLER_NAMESPACE = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: front-from-controller, namespace: shop }
spec:
  podSelector: { matchLabels: { app: front } }
  ingress:
    - from:
        - namespaceSelector: { matchLabels: { app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/instance: ingress-nginx } }
`;

describe('NetworkPolicy on the LB, kube-proxy and ingress paths', () => {
  let cluster: Cluster;
  const addresses = addressBlock(11);
  let ingressIP: string;

  const front = () => cluster.service('front', 'shop').url();
  const viaIngress = (timeoutMs = 5_000) => httpGet(`http://${ingressIP}/`, { headers: { host: 'front.example.com' }, timeoutMs });
  const frontPod = () => cluster.pods({ app: 'front' }, 'shop')[0]!;
  const apiURL = () => `http://${cluster.service('api', 'shop').clusterIP}/`;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: APP, config: { addresses }, timeScale: 1 / 20, seed: 3 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod ready' });
    ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
  });
  afterAll(() => cluster?.stop());

  it('without a policy every path answers', async () => {
    expect((await echo(front())).pod).toMatch(/^front-/);
    expect((await viaIngress()).status).toBe(200);
    expect((await echo(apiURL(), { localAddress: frontPod().ip })).pod).toMatch(/^api-/);
    expect(cluster.snapshot.networkPolicy).toBeUndefined();
  });

  it('a default deny drops the LB path and the pod-to-Service path: the client times out, no reset', async () => {
    await cluster.apply({ manifests: APP + DENY_ALL });
    await cluster.waitFor((s) => s.networkPolicy !== undefined, { what: 'the policy in the snapshot' });
    await expect(httpGet(front(), { timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(httpGet(apiURL(), { localAddress: frontPod().ip, timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('the ingress controller answers 504 once its connect timeout has passed', async () => {
    const res = await viaIngress();
    expect(res.status).toBe(504);
    expect(res.body).toContain('504 Gateway Time-out');
    // A WebSocket upgrade meets the same dropped connect.
    const upgrade = await httpGet(`http://${ingressIP}/`, { headers: { host: 'front.example.com', connection: 'Upgrade', upgrade: 'websocket' } });
    expect(upgrade.status).toBe(504);
  });

  it('allow rules repair the paths they name and nothing else', async () => {
    await cluster.apply({ manifests: APP + DENY_ALL + ALLOW });
    await cluster.waitFor((s) => (s.networkPolicy?.policies.length ?? 0) === 3, { what: 'three policies' });
    expect((await viaIngress()).status).toBe(200);
    expect((await echo(apiURL(), { localAddress: frontPod().ip })).pod).toMatch(/^api-/);
    // The LB path still ends at front, which only the ingress controller's namespace may reach.
    await expect(httpGet(front(), { timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    // api takes front only: the ingress controller's pod is not front.
    const ingressPod = cluster.pods({}, 'ingress-nginx')[0]!;
    await expect(httpGet(apiURL(), { localAddress: ingressPod.ip, timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('the admin API explains which policy allows or drops a flow, and names a bad query', async () => {
    const q = new URLSearchParams({ from: `pod/${frontPod().name}`, to: 'svc/api', namespace: 'shop' });
    const res = await fetch(`${cluster.adminUrl}/aks-emu/v1/explain/flow?${q}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { explanation: { flows: { decision: { verdict: string; policy?: string } }[] }; text: string };
    expect(body.explanation.flows.map((f) => f.decision)).toEqual([
      expect.objectContaining({ verdict: 'allow', policy: 'shop/api-from-front' }),
      expect.objectContaining({ verdict: 'allow', policy: 'shop/api-from-front' }),
    ]);
    const bad = await fetch(`${cluster.adminUrl}/aks-emu/v1/explain/flow?from=deploy/x&to=svc/api`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('invalid value "deploy/x" for flag --from');
  });

  it('a pod dialled at its own IP, past kube-proxy, is held to the same policies', async () => {
    const api = cluster.pods({ app: 'api' }, 'shop')[0]!;
    const ingressPod = cluster.pods({}, 'ingress-nginx')[0]!;
    expect((await echo(`http://${api.ip}:3000/`, { localAddress: frontPod().ip })).pod).toBe(api.name);
    await expect(httpGet(`http://${api.ip}:3000/`, { localAddress: ingressPod.ip, timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    // Its own node may reach it (kubelet's probes).
    const own = cluster.nodes.find((n) => n.name === api.nodeName)!;
    expect((await echo(`http://${api.ip}:3000/`, { localAddress: own.address })).pod).toBe(api.name);
  });

  it('an egress policy of the source is enforced too', async () => {
    await cluster.apply({ manifests: APP + DENY_ALL + ALLOW + FRONT_EGRESS });
    await cluster.waitFor((s) => (s.networkPolicy?.policies.length ?? 0) === 4, { what: 'four policies' });
    await expect(httpGet(apiURL(), { localAddress: frontPod().ip, timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('the built-in controller’s Namespace carries the chart’s labels, which a namespaceSelector selects', async () => {
    await cluster.apply({ manifests: APP + DENY_ALL + FRONT_FROM_CONTROLLER_NAMESPACE });
    await cluster.waitFor(
      (s) => s.networkPolicy?.policies.some((p) => p.key === 'shop/front-from-controller') === true && s.networkPolicy.policies.length === 2,
      {
        what: 'the chart-label policy',
      },
    );
    expect((await viaIngress()).status).toBe(200);
    // Only the controller's namespace: the LB path to front stays dropped.
    await expect(httpGet(front(), { timeoutMs: 400 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('removing the policies opens every path again for new connections', async () => {
    await cluster.apply({ manifests: APP });
    await cluster.waitFor((s) => s.networkPolicy === undefined, { what: 'no policy' });
    expect((await echo(front())).pod).toMatch(/^front-/);
    expect((await echo(apiURL(), { localAddress: frontPod().ip })).pod).toMatch(/^api-/);
  });
});
