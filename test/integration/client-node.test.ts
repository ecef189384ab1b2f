import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { webApp } from '../helpers/web-manifests.js';

/** The lower half of each /16 of block 17; test/cli/up-watch.test.ts takes the upper half. */
function lowerHalf(block: ReturnType<typeof addressBlock>): ReturnType<typeof addressBlock> {
  return Object.fromEntries(Object.entries(block).map(([k, v]) => [k, v.replace('.0.0/16', '.0.0/17')])) as ReturnType<typeof addressBlock>;
}

const MANIFESTS = `
${webApp({ image: 'example/web:1', containerPorts: '[{ containerPort: 8080 }]', type: 'LoadBalancer', servicePorts: '[{ port: 80, targetPort: 8080 }]' })}
---
apiVersion: v1
kind: Service
metadata: { name: other, labels: { team: other } }
spec:
  selector: { app: other }
  ports: [{ port: 80 }]
`;

describe('@kubernetes/client-node against aks-emu', () => {
  let cluster: Cluster;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: lowerHalf(addressBlock(17)), ingress: { enabled: false } }, timeScale: 1 / 50 });
    kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'aks-emu', server: cluster.adminUrl!, skipTLSVerify: true }],
      users: [{ name: 'aks-emu', token: cluster.adminToken! }],
      contexts: [{ name: 'aks-emu', cluster: 'aks-emu', user: 'aks-emu' }],
      currentContext: 'aks-emu',
    });
  });
  afterAll(() => cluster?.stop());

  it('lists with label and field selectors honoured, and a resourceVersion on list and items', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    expect(pods.items.map((p) => p.metadata!.name).sort()).toEqual(
      cluster
        .pods({ app: 'web' })
        .map((p) => p.name)
        .sort(),
    );
    expect(Number(pods.metadata!.resourceVersion)).toBeGreaterThan(0);
    expect(pods.items.every((p) => Number(p.metadata!.resourceVersion) > 0)).toBe(true);
    const svcs = await core.listServiceForAllNamespaces({ labelSelector: 'team notin (other)', fieldSelector: 'metadata.namespace=default' });
    expect(svcs.items.map((s) => s.metadata!.name)).toEqual(['web']);
    await expect(core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (' })).rejects.toMatchObject({ code: 400 });
  });

  it('runs informers on pods, services and endpointslices, and sees a scale-up', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const pods = k8s.makeInformer(
      kc,
      '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' }),
      'app=web',
    );
    const services = k8s.makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces());
    const slices = k8s.makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces());
    const errors: unknown[] = [];
    const added: string[] = [];
    for (const informer of [pods, services, slices]) informer.on('error', (err) => errors.push(err));
    pods.on('add', (p) => added.push(p.metadata!.name!));
    await Promise.all([pods.start(), services.start(), slices.start()]);
    try {
      expect(pods.list('default')).toHaveLength(2);
      expect(
        services
          .list('default')
          .map((s) => s.metadata!.name)
          .sort(),
      ).toEqual(['other', 'web']);
      await apps.replaceNamespacedDeploymentScale({
        name: 'web',
        namespace: 'default',
        body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 4 } },
      });
      await expect.poll(() => pods.list('default').length, { timeout: 20_000 }).toBe(4);
      const slice = () => slices.list('default').find((s) => s.metadata!.labels?.['kubernetes.io/service-name'] === 'web');
      await expect.poll(() => slice()?.endpoints?.length, { timeout: 20_000 }).toBe(4);
      expect(added.length).toBeGreaterThanOrEqual(4);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all([pods.stop(), services.stop(), slices.stop()]);
    }
  });

  it('reads and writes the scale subresource, and refuses a write to a controller-owned pod', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' });
    expect(scale.spec!.replicas).toBe(4);
    expect(scale.status!.selector).toBe('app=web');
    const pod = cluster.pods({ app: 'web' })[0]!;
    await expect(core.deleteNamespacedPod({ name: pod.name, namespace: 'default' })).rejects.toMatchObject({ code: 403 });
  });
});
