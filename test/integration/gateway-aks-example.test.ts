/**
 * The walk-through of AKS's "Gateway API via the application routing add-on" guide,
 * written anew for aks-emu: an httpbin-like app, a Gateway of class approuting-istio,
 * an HTTPRoute for its /get path; wait for the Gateway to be Programmed, read its address
 * and curl it with the route's host. Then the guide's internal variant: the Azure
 * internal-LB annotation passed through spec.infrastructure.annotations.
 *
 * Addresses: block 25.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo, send } from '../helpers/ingress-client.js';

const ADDRESSES = addressBlock(25);

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: { name: httpbin }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: httpbin, namespace: httpbin }
spec:
  replicas: 2
  selector: { matchLabels: { app: httpbin } }
  template:
    metadata: { labels: { app: httpbin } }
    spec:
      containers:
        - name: httpbin
          image: docker.io/kennethreitz/httpbin
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: httpbin }
spec:
  selector: { app: httpbin }
  ports: [{ name: http, port: 8000, targetPort: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: httpbin-gateway, namespace: httpbin }
spec:
  gatewayClassName: approuting-istio
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes: { namespaces: { from: Same } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: httpbin-internal, namespace: httpbin }
spec:
  gatewayClassName: approuting-istio
  infrastructure:
    annotations:
      service.beta.kubernetes.io/azure-load-balancer-internal: "true"
  listeners:
    - { name: http, port: 80, protocol: HTTP }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: httpbin, namespace: httpbin }
spec:
  parentRefs: [{ name: httpbin-gateway }, { name: httpbin-internal }]
  hostnames: ["httpbin.example.com"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /get } }]
      backendRefs: [{ name: httpbin, port: 8000 }]
`;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: ADDRESSES }, timeScale: 1 / 20, admin: false });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("AKS's Gateway API guide", () => {
  it('programs the Gateway with the public frontend IP as its address', async () => {
    await cluster.waitFor(
      (s) => s.gateway?.gatewayStatuses['httpbin/httpbin-gateway']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true,
      {
        what: 'Gateway httpbin/httpbin-gateway Programmed',
      },
    );
    const gateway = cluster.gateway('httpbin-gateway', 'httpbin');
    expect(gateway.address).toBe(cluster.service('httpbin-gateway-approuting-istio', 'httpbin').loadBalancerIP);
    expect(gateway.url()).toBe(`http://${gateway.address}/`);
  });

  it('answers curl -H "Host: httpbin.example.com" http://$INGRESS_HOST/get from an httpbin pod', async () => {
    const reply = await echo(cluster.gateway('httpbin-gateway', 'httpbin').address!, '/get', { host: 'httpbin.example.com' });
    expect(reply.pod).toMatch(/^httpbin-/);
    expect(reply.path).toBe('/get');
  });

  it('answers 404 for another host or path, as the Istio gateway does', async () => {
    const ip = cluster.gateway('httpbin-gateway', 'httpbin').address!;
    expect((await send(ip, '/get', { host: 'other.example.com' })).status).toBe(404);
    expect((await send(ip, '/headers', { host: 'httpbin.example.com' })).status).toBe(404);
  });

  it('puts the internal Gateway on a private frontend from the node subnet that serves the same route', async () => {
    const svc = cluster.service('httpbin-internal-approuting-istio', 'httpbin');
    expect(svc.info.loadBalancer).toMatchObject({ internal: true, loadBalancerName: 'kubernetes-internal' });
    const reply = await echo(svc.loadBalancerIP!, '/get', { host: 'httpbin.example.com' });
    expect(reply.pod).toMatch(/^httpbin-/);
  });
});
