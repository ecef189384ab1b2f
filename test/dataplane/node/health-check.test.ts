import { describe, expect, it } from 'vitest';

import type { ServiceEndpoints, ServiceInfo, ServicePortEndpoints, Snapshot } from '../../../src/cluster/snapshot.js';
import type { DataPlane } from '../../../src/dataplane/index.js';
import { goTimeString, serviceHealthBody } from '../../../src/dataplane/node/health-check.js';
import { FakeClock } from '../fake-clock.js';
import { HEALTH_CHECK_NODE_PORT, nodeAddress, webCluster } from '../factories.js';
import { useHarness } from '../harness.js';
import { failure, httpGet } from '../net-helpers.js';

const BLOCK = 35;

const h = useHarness();

function cluster(running?: boolean[]): Snapshot {
  return webCluster({
    block: BLOCK,
    running,
    // Two ready pods on node-0; node-1's only pod is not ready.
    pods: [
      { node: 0, port: 9301 },
      { node: 0, port: 9302 },
      { node: 1, port: 9301, ready: false },
    ],
    service: { externalTrafficPolicy: 'Local', healthCheckNodePort: HEALTH_CHECK_NODE_PORT },
    probe: { protocol: 'Http', port: HEALTH_CHECK_NODE_PORT, requestPath: '/healthz' },
  }).snapshot;
}

function start(clock = new FakeClock(), running?: boolean[], snapshot = cluster(running)): Promise<DataPlane> {
  return h.start(snapshot, { clock });
}

/** The same cluster with a second Service port served by the same pods. */
function withSecondPort(): Snapshot {
  const snapshot = cluster();
  const [service] = snapshot.services as [ServiceInfo];
  const [endpoints] = snapshot.endpoints as [ServiceEndpoints];
  const [http] = endpoints.ports as [ServicePortEndpoints];
  return {
    ...snapshot,
    services: [{ ...service, ports: [...service.ports, { name: 'metrics', protocol: 'TCP', port: 9090, targetPort: 9090 }] }],
    endpoints: [
      {
        ...endpoints,
        ports: [
          http,
          { ...http, name: 'metrics', endpoints: http.endpoints.map((e) => ({ ...e, port: 9090 })), usable: http.usable.map((e) => ({ ...e, port: 9090 })) },
        ],
      },
    ],
  };
}

describe('healthCheckNodePort', () => {
  it("answers any path with 200 and kube-proxy's body on a node with local endpoints", async () => {
    await start();
    const answer = await httpGet(nodeAddress(BLOCK, 0), HEALTH_CHECK_NODE_PORT, '/anything/at/all');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toBe(
      '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
    );
  });

  it('counts a pod serving two ports of the Service once', async () => {
    await start(new FakeClock(), undefined, withSecondPort());
    const answer = await httpGet(nodeAddress(BLOCK, 0), HEALTH_CHECK_NODE_PORT, '/');
    expect(JSON.parse(answer.body)).toMatchObject({ localEndpoints: 2 });
  });

  it('answers 503 with localEndpoints 0 on a node without a local ready endpoint', async () => {
    await start();
    const answer = await httpGet(nodeAddress(BLOCK, 1), HEALTH_CHECK_NODE_PORT, '/healthz');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toEqual({ service: { namespace: 'default', name: 'web' }, localEndpoints: 0, serviceProxyHealthy: true });
  });

  it('is not served by a stopped node', async () => {
    await start(new FakeClock(), [true, false, true]);
    expect(await failure(nodeAddress(BLOCK, 1), HEALTH_CHECK_NODE_PORT)).toBe('ECONNREFUSED');
  });

  it('formats the body exactly as the dedented Go template', () => {
    expect(serviceHealthBody('ns', 'svc', 3).split('\n')).toEqual([
      '{',
      '\t"service": {',
      '\t\t"namespace": "ns",',
      '\t\t"name": "svc"',
      '\t},',
      '\t"localEndpoints": 3,',
      '\t"serviceProxyHealthy": true',
      '}',
    ]);
  });
});

describe('kube-proxy healthz', () => {
  it('answers /healthz with 200, lastUpdated, currentTime and nodeEligible on a running node', async () => {
    const clock = new FakeClock();
    await start(clock);
    clock.advance(1_500);
    const answer = await httpGet(nodeAddress(BLOCK, 2), 10256, '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const time = goTimeString(clock.now(), 1_500);
    expect(answer.body).toBe(`{"lastUpdated": "${time}","currentTime": "${time}", "nodeEligible": true}`);
    expect(time).toBe('2024-05-14 10:00:01.5 +0000 UTC m=+1.500000000');
  });

  it('answers /livez without nodeEligible and 404 elsewhere', async () => {
    await start();
    const livez = await httpGet(nodeAddress(BLOCK, 0), 10256, '/livez');
    expect(Object.keys(JSON.parse(livez.body))).toEqual(['lastUpdated', 'currentTime']);
    const other = await httpGet(nodeAddress(BLOCK, 0), 10256, '/metrics');
    expect([other.status, other.body]).toEqual([404, '404 page not found\n']);
  });

  it('is not served by a stopped node', async () => {
    await start(new FakeClock(), [false, true, true]);
    expect(await failure(nodeAddress(BLOCK, 0), 10256)).toBe('ECONNREFUSED');
  });
});
