/**
 * Waiting for serving: serving() reads every LB probe target, and start-up settles the
 * targets one by one (6,500 at 1,000 Services), so a wait that checked on every event did
 * quadratic work. A burst of probe events costs one check; the wait still resolves as soon
 * as the cluster serves.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { resolveConfig } from '../../src/index.js';
import { parseManifests } from '../../src/manifests/index.js';
import { EmbeddedCluster } from '../../src/runtime/embedded-cluster.js';

// Ranges of this file alone (addressBlock's 32 blocks are all taken).
const addresses = { nodeSubnet: '127.120.0.0/16', podCIDR: '127.121.0.0/16', serviceCIDR: '127.122.0.0/16', publicFrontends: '127.123.0.0/16' };

const IMAGE = 'registry.k8s.io/ingressconformance/echoserver:v0.0.1';
const MANIFESTS = [
  `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replicas: 1, selector: {matchLabels: {app: web}},
    template: {metadata: {labels: {app: web}}, spec: {containers: [{name: echo, image: '${IMAGE}', ports: [{containerPort: 8080}]}]}}}}`,
  `{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}`,
].join('\n---\n');

let cluster: EmbeddedCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('waiting until the cluster serves', () => {
  it('checks once for a burst of probe events, and resolves once the cluster serves', async () => {
    const config = await resolveConfig({ config: { addresses, ingress: { enabled: false } }, timeScale: 0.01 });
    const { manifests } = parseManifests([{ file: 'web.yaml', text: MANIFESTS }]);
    cluster = await EmbeddedCluster.start({ config, manifests, log: () => {} });
    expect(await cluster.waitUntilServing(30_000)).toBe(true);

    // The pod forced unready: not serving until it is Ready again.
    const pod = cluster.snapshot.pods.find((p) => p.name.startsWith('web-'))!;
    const key = `${pod.namespace}/${pod.name}`;
    await cluster.setPodReady(key, false);
    expect(cluster.serving()).toBe(false);
    const serving = vi.spyOn(cluster, 'serving');
    const waiting = cluster.waitUntilServing(30_000);
    serving.mockClear();
    for (let i = 0; i < 1_000; i++) cluster.emit('probe-settled');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(serving.mock.calls.length).toBeGreaterThan(0);
    expect(serving.mock.calls.length).toBeLessThanOrEqual(2);

    await cluster.setPodReady(key, null);
    expect(await waiting).toBe(true);
    expect(cluster.serving()).toBe(true);
  });
});
