/**
 * The Gateway API kinds through the Kubernetes API, as the API server serves them once the
 * CRDs are installed: a Gateway and HTTPRoute the cluster started with survive an unrelated
 * library apply and an unrelated `kubectl apply`; `kubectl apply` of a new HTTPRoute takes
 * effect on traffic; `kubectl get` lists them with the CRDs' printer columns; `kubectl
 * delete httproute` takes the route away (404 from the gateway).
 *
 * Addresses: 127.112-115.0.0/16 (outside the addressBlock range, taken by no other file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { kubectl, kubectlAvailable, tempKubeconfig } from '../helpers/kubectl.js';
import { echo, send } from '../helpers/ingress-client.js';
import { gatewayRoute, webApp } from '../helpers/web-manifests.js';

const ADDRESSES = {
  nodeSubnet: '127.112.0.0/16',
  podCIDR: '127.113.0.0/16',
  serviceCIDR: '127.114.0.0/16',
  publicFrontends: '127.115.0.0/16',
};

const manifests = (webReplicas: number) =>
  `${webApp({ replicas: webReplicas })}---${gatewayRoute({ gateway: 'gw', route: 'web', host: 'shop.example.com', prefix: '/web', service: 'web' })}`;

/** A second route on the Gateway: /api to the same pods. */
const API_ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: api }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["shop.example.com"]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /api } }], backendRefs: [{ name: web, port: 80 }] }]
`;

const EXTRA_SERVICE = `apiVersion: v1
kind: Service
metadata: { name: extra }
spec:
  selector: { app: web }
  ports: [{ port: 8081, targetPort: 8080 }]
`;

describe.runIf(kubectlAvailable())('Gateway API objects through kubectl and the library', () => {
  let cluster: Cluster;
  let config: string;
  const k = (args: string[], stdin?: string) => kubectl(config, args, stdin);
  const ok = async (args: string[], stdin?: string) => {
    const r = await k(args, stdin);
    expect(r.stderr, `kubectl ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const gatewayIP = () => cluster.gateway('gw').address!;
  const host = { host: 'shop.example.com' };
  const podAt = async (path: string) => (await echo(gatewayIP(), path, host)).pod;
  const statusAt = async (path: string) => (await send(gatewayIP(), path, host)).status;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: manifests(1), config: { addresses: ADDRESSES, ingress: { enabled: false } }, timeScale: 1 / 50 });
    config = tempKubeconfig(cluster.adminUrl!, cluster.adminToken!);
    await cluster.waitFor(() => cluster.gateway('gw').address !== undefined && cluster.serving(), { what: 'the Gateway programmed, pods serving' });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('keeps routing through the Gateway after an unrelated library apply and kubectl apply', async () => {
    expect(await podAt('/web')).toMatch(/^web-/);
    await cluster.apply({ manifests: manifests(2) });
    await cluster.waitFor(() => cluster.pods({ app: 'web' }).filter((p) => p.phase === 'Running' && p.ready).length === 2, {
      what: '2 ready web pods',
    });
    expect(await ok(['apply', '-f', '-'], EXTRA_SERVICE)).toContain('service/extra created');
    expect(await podAt('/web')).toMatch(/^web-/);
    expect(await ok(['get', 'gateway', 'gw', '-o', 'jsonpath={.spec.gatewayClassName}'])).toBe('approuting-istio');
  });

  it('lists the Gateway API kinds in discovery with the CRDs short names', async () => {
    const resources = await ok(['api-resources', '--api-group', 'gateway.networking.k8s.io', '--no-headers']);
    expect(resources).toMatch(/^gateways\s+gtw\s+gateway\.networking\.k8s\.io\/v1\s+true\s+Gateway$/m);
    expect(resources).toMatch(/^gatewayclasses\s+gc\s+gateway\.networking\.k8s\.io\/v1\s+false\s+GatewayClass$/m);
    expect(resources).toMatch(/^httproutes\s+gateway\.networking\.k8s\.io\/v1\s+true\s+HTTPRoute$/m);
    expect(resources).toMatch(/^referencegrants\s+refgrant\s+gateway\.networking\.k8s\.io\/v1beta1\s+true\s+ReferenceGrant$/m);
    expect(resources).toMatch(/^tcproutes\s+gateway\.networking\.k8s\.io\/v1alpha2\s+true\s+TCPRoute$/m);
  });

  it('kubectl apply of a new HTTPRoute routes traffic, and get lists it with the printer columns', async () => {
    expect(await statusAt('/api')).toBe(404);
    expect(await ok(['apply', '-f', '-'], API_ROUTE)).toContain('httproute.gateway.networking.k8s.io/api created');
    await cluster.waitFor((s) => s.gateway?.routeStatuses['HTTPRoute/default/api'] !== undefined, { what: 'the api route compiled' });
    expect(await podAt('/api')).toMatch(/^web-/);

    const table = await ok(['get', 'gateways,httproutes', '-A']);
    expect(table).toMatch(/NAMESPACE\s+NAME\s+CLASS\s+ADDRESS\s+PROGRAMMED\s+AGE/);
    expect(table).toMatch(
      new RegExp(`default\\s+gateway\\.gateway\\.networking\\.k8s\\.io/gw\\s+approuting-istio\\s+${gatewayIP().replaceAll('.', '\\.')}\\s+True\\s+`),
    );
    expect(table).toMatch(/NAMESPACE\s+NAME\s+HOSTNAMES\s+AGE/);
    expect(table).toMatch(/default\s+httproute\.gateway\.networking\.k8s\.io\/api\s+\["shop\.example\.com"\]/);
    expect(table).toMatch(/default\s+httproute\.gateway\.networking\.k8s\.io\/web\s+\["shop\.example\.com"\]/);

    // The CRDs' category, and the classes the controller serves without a manifest naming them.
    const all = await ok(['get', 'gateway-api', '-A', '-o', 'name']);
    for (const name of [
      'gatewayclass.gateway.networking.k8s.io/approuting-istio',
      'gateway.gateway.networking.k8s.io/gw',
      'httproute.gateway.networking.k8s.io/api',
    ])
      expect(all).toContain(name);
    expect(await ok(['get', 'gc', 'approuting-istio'])).toMatch(/NAME\s+CONTROLLER\s+ACCEPTED\s+AGE\napprouting-istio\s+\S+\s+True\s+/);

    // Status as the controller writes it: the route accepted by the Gateway.
    const accepted = await ok(['get', 'httproute', 'api', '-o', 'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}']);
    expect(accepted).toBe('True');
    expect(await ok(['get', 'gtw', 'gw', '-o', 'jsonpath={.status.conditions[?(@.type=="Programmed")].status}'])).toBe('True');
  });

  it('kubectl patch (merge) changes a route; a strategic merge patch is refused as for any custom resource', async () => {
    const patched = await ok(['patch', 'httproute', 'api', '--type', 'merge', '-p', '{"spec":{"hostnames":["api.example.com"]}}']);
    expect(patched).toContain('httproute.gateway.networking.k8s.io/api patched');
    // The write returns once the cluster has applied it (the object store's writes wait for the sync).
    expect((await echo(gatewayIP(), '/api', { host: 'api.example.com' })).pod).toMatch(/^web-/);
    expect(await statusAt('/api')).toBe(404);
    const smp = await k(['patch', 'httproute', 'api', '-p', '{"spec":{"hostnames":["shop.example.com"]}}']);
    expect(smp.code).not.toBe(0);
    expect(smp.stderr).toContain('application/strategic-merge-patch+json');
  });

  it('kubectl delete httproute takes the route away: 404 from the gateway', async () => {
    expect(await ok(['delete', 'httproute', 'web'])).toContain('httproute.gateway.networking.k8s.io "web" deleted');
    expect(await statusAt('/web')).toBe(404);
    expect(await ok(['get', 'httproutes', '-o', 'name'])).toBe('httproute.gateway.networking.k8s.io/api\n');
  });
});
