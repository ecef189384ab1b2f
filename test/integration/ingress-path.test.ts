import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo, httpGet } from '../helpers/net.js';
import { storeRewriteIngress } from '../helpers/web-manifests.js';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: shop } }
  template:
    metadata: { labels: { app: shop } }
    spec:
      containers: [{ name: shop, image: shop, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: shop }
spec:
  selector: { app: shop }
  ports: [{ port: 80, targetPort: http }]
---
${storeRewriteIngress('shop')}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: elsewhere }
spec:
  ingressClassName: traefik
  rules:
    - host: other.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: shop, port: { number: 80 } } }
`;

describe('the L7 path: Azure LB → node → ingress controller pod → pod', () => {
  let cluster: Cluster;
  let ingressIP: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(5) }, timeScale: 1 / 20 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'controller and shop pods to be Ready' });
    ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    // Every node healthy on both rules (80 and 443), not only the one serving() needs.
    for (const node of cluster.nodes) await cluster.waitForProbe(node.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' });
  });
  afterAll(() => cluster?.stop());

  it('runs the controller as pods behind its own LoadBalancer Service on 80 and 443', () => {
    const svc = cluster.service('ingress-nginx-controller', 'ingress-nginx');
    expect(svc.info.type).toBe('LoadBalancer');
    expect(svc.ports.map((p) => p.port)).toEqual([80, 443]);
    expect(cluster.pods({}, 'ingress-nginx')).toHaveLength(2);
  });

  it('routes by host and regex path, rewrites with the capture group and keeps the query', async () => {
    const seen = await echo(`http://${ingressIP}/store/items/7?q=1`, { headers: { host: 'shop.example.com' } });
    expect(seen.pod).toMatch(/^shop-/);
    expect(seen.path).toBe('/items/7?q=1');
    const headers = seen.headers as Record<string, string[]>;
    expect(headers['X-Forwarded-Host']).toEqual(['shop.example.com']);
    // The controller's Service has externalTrafficPolicy Cluster: kube-proxy SNATs to the node,
    // so ingress-nginx sees a node address as the client, exactly as on AKS.
    expect(cluster.nodes.map((n) => n.address)).toContain(headers['X-Real-Ip']![0]);
  });

  it('reaches the pod endpoints directly, not the ClusterIP: the pod sees the controller pod', async () => {
    const seen = await echo(`http://${ingressIP}/store/`, { headers: { host: 'shop.example.com' } });
    const controllerIPs = cluster.pods({}, 'ingress-nginx').map((p) => p.ip);
    expect(controllerIPs).toContain(seen.remoteAddress);
  });

  it('answers 404 from the default backend for an unknown host', async () => {
    const res = await httpGet(`http://${ingressIP}/store/`, { headers: { host: 'other.example.com' } });
    expect(res.status).toBe(404);
    expect(res.headers.server).toBe('nginx');
  });

  it('terminates TLS at the controller with its default certificate', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: ingressIP,
          port: 443,
          path: '/store/',
          headers: { host: 'shop.example.com' },
          servername: 'shop.example.com',
          rejectUnauthorized: false,
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('publishes the controller address on admitted Ingresses only, as get ingress shows', async () => {
    const list = (await (await fetch(`${cluster.adminUrl}/apis/networking.k8s.io/v1/ingresses`)).json()) as {
      items: { metadata: { name: string }; status: { loadBalancer: { ingress?: { ip: string }[] } } }[];
    };
    const byName = Object.fromEntries(list.items.map((i) => [i.metadata.name, i.status.loadBalancer.ingress?.[0]?.ip]));
    expect(byName).toEqual({ shop: ingressIP, elsewhere: undefined });
  });

  it('explains the match without sending traffic', async () => {
    const res = await fetch(`${cluster.adminUrl}/aks-emu/v1/explain/ingress?host=shop.example.com&path=/store/x`);
    const body = (await res.json()) as {
      explanation: { regex: { enabled: boolean }; rewrite?: { result: string }; location?: { ingress?: string } };
      text: string;
    };
    expect(body.explanation.regex.enabled).toBe(true);
    expect(body.explanation.location?.ingress).toBe('default/shop');
    expect(body.explanation.rewrite?.result).toBe('/x');
    expect(body.text.length).toBeGreaterThan(0);
  });
});

describe('a host-less regex Ingress', () => {
  it('is reported at start: it takes /healthz and so the controller frontend loses every node', async () => {
    const hostless = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: hostless
  annotations: { nginx.ingress.kubernetes.io/use-regex: "true", nginx.ingress.kubernetes.io/rewrite-target: /$2 }
spec:
  ingressClassName: nginx
  rules:
    - http:
        paths:
          - path: /store-front(/|$)(.*)
            pathType: ImplementationSpecific
            backend: { service: { name: x, port: { number: 80 } } }
`;
    const cluster = await startCluster({ manifests: hostless, config: { addresses: addressBlock(6) }, timeScale: 1 / 20, wait: false });
    try {
      const notice = cluster.notices.find((n) => n.startsWith('Service ingress-nginx/ingress-nginx-controller: its LB health probes (HTTP'));
      expect(notice).toContain('GET /healthz');
      expect(notice).toContain('sends /healthz to the default backend (matched by regex ^/');
      expect(notice).toContain('because of Ingress default/hostless): 404, so every node fails the probe');
      await cluster.waitFor((snap) => snap.pods.every((p) => p.ready), { what: 'the controller pods to be Ready' });
      // The pods are Ready, yet the HTTP probe of port 80 keeps failing: /healthz answers 404.
      await expect
        .poll(
          () =>
            cluster
              .probeStatus()
              .filter((p) => p.probe.endsWith('-TCP-80'))
              .map((p) => [p.state, p.lastDetail]),
          { timeout: 10_000 },
        )
        .toEqual(cluster.nodes.map(() => ['down', 'HTTP 404']));
    } finally {
      await cluster.stop();
    }
  });
});

describe('an invalid Ingress', () => {
  it('stops the start with an error naming the Ingress and the field', async () => {
    const bad = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
  annotations: { nginx.ingress.kubernetes.io/use-regex: "true" }
spec:
  ingressClassName: nginx
  rules:
    - http:
        paths:
          - path: /a(b
            pathType: ImplementationSpecific
            backend: { service: { name: x, port: { number: 80 } } }
`;
    await expect(startCluster({ manifests: bad, config: { addresses: addressBlock(6) } })).rejects.toMatchObject({
      code: 'AKS_EMU_MANIFEST_INVALID',
      message: expect.stringMatching(/The Ingress "broken" is invalid: spec\.rules\[0\]\.http\.paths\[0\]\.path/),
    });
  });
});
