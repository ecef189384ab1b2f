import fc from 'fast-check';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildConfig } from '../../src/config/load.js';
import { listenerGuard } from '../../src/dataplane/l4/listener-guard.js';
import { KUBE_PROXY_HEALTHZ_PORT } from '../../src/dataplane/node/health-check.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { parseManifests } from '../../src/manifests/index.js';
import { ContainerControlPlane } from '../../src/runtime/container/control-plane.js';
import { startControlServer, type ControlServer } from '../../src/runtime/container/control-server.js';
import { ClusterDnsServer } from '../../src/dataplane/dns/server.js';
import { addressBlock } from '../helpers/addresses.js';
import { dnsQuery } from '../helpers/dns.js';
import { endings, FUZZ_RUNS, garbage, httpRequests, sendAndEnd } from '../helpers/fuzz.js';
import { echo, httpGet } from '../helpers/net.js';
import { rawExchange, statusOf } from '../helpers/raw.js';
import { webManifests } from '../helpers/web-manifests.js';

const addresses = addressBlock(12);
const MANIFESTS = `${webManifests({ replicas: 2, ports: '[{ name: http, port: 80, targetPort: 8080 }, { name: tcp-echo, port: 9000, targetPort: 9000 }]' })}
---
apiVersion: v1
kind: Service
metadata: { name: web-nodeport }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web-local }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app: web }
  ports: [{ port: 8081, targetPort: 8080 }]
`;

/** A valid query with random bytes overwritten, cut short or extended. */
const dnsMessages = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  fc
    .tuple(
      fc.constantFrom('web.default.svc.cluster.local', 'web', 'x'.repeat(63) + '.default', 'nosuch'),
      fc.array(fc.tuple(fc.nat(80), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(90),
      fc.uint8Array({ maxLength: 40 }),
    )
    .map(([name, flips, cut, tail]) => {
      const message = dnsQuery(name, 0x1234);
      for (const [at, value] of flips) if (at < message.length) message[at] = value;
      return Buffer.concat([message.subarray(0, Math.max(cut, 2)), Buffer.from(tail)]);
    }),
);

function udpSend(port: number, message: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.send(message, port, '127.0.0.1', () => socket.close(() => resolve()));
  });
}

function dnsAnswer(port: number, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('message', (answer) => socket.close(() => resolve(answer)));
    socket.once('error', reject);
    socket.send(message, port, '127.0.0.1');
  });
}

describe('every listener under thousands of random and malformed inputs', () => {
  let cluster: Cluster;
  let dns: ClusterDnsServer;
  let control: ContainerControlPlane;
  let controlServer: ControlServer;
  let lbIP: string;
  let nodeAddress: string;
  const runs = { numRuns: FUZZ_RUNS };

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: MANIFESTS,
      nodes: 2,
      timeScale: 0.02,
      seed: 9,
      admin: false,
      config: { addresses, ingress: { enabled: false } },
    });
    lbIP = cluster.service('web').loadBalancerIP!;
    nodeAddress = cluster.nodes[0]!.address;
    dns = await ClusterDnsServer.start('127.0.0.1', 0);
    dns.update(cluster.snapshot);
    const { manifests } = parseManifests([{ file: '<fuzz>', text: MANIFESTS }]);
    control = new ContainerControlPlane({ config: buildConfig({ addresses, timeScale: 0.02, seed: 9, ingress: { enabled: false } }), manifests });
    controlServer = await startControlServer(control, '127.0.0.1', 0);
  }, 60_000);

  afterAll(async () => {
    await controlServer?.close();
    await control?.stop();
    await dns?.stop();
    await cluster?.stop();
  });

  it('echoes every byte of a random flow through the LB frontend and survives resets', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 65_536 }), endings, async (bytes, ending) => {
        const input = Buffer.from(bytes);
        const answer = await sendAndEnd(lbIP, 9000, input, ending, 5_000);
        if (ending === 'half-close') expect(answer.equals(input)).toBe(true);
      }),
      runs,
    );
  });

  it('survives garbage on the LB frontend of an HTTP port', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, endings, (bytes, ending) => sendAndEnd(lbIP, 80, bytes, ending, 300).then(() => {})),
      runs,
    );
    expect((await echo(`http://${lbIP}:80/after-fuzz`)).pod).toBeTruthy();
  });

  it('survives garbage on a NodePort', async () => {
    const nodePort = cluster.service('web-nodeport').nodePort();
    await fc.assert(
      fc.asyncProperty(garbage, endings, (bytes, ending) => sendAndEnd(nodeAddress, nodePort, bytes, ending, 300).then(() => {})),
      runs,
    );
    expect((await echo(`http://${nodeAddress}:${nodePort}/after-fuzz`)).pod).toBeTruthy();
  });

  it("survives malformed HTTP on the healthCheckNodePort and kube-proxy's healthz", async () => {
    const healthCheckNodePort = cluster.service('web-local').info.healthCheckNodePort!;
    for (const port of [healthCheckNodePort, KUBE_PROXY_HEALTHZ_PORT]) {
      await fc.assert(
        fc.asyncProperty(httpRequests, endings, (bytes, ending) => sendAndEnd(nodeAddress, port, bytes, ending, 300).then(() => {})),
        runs,
      );
    }
    expect((await httpGet(`http://${nodeAddress}:${healthCheckNodePort}/`)).status).toBe(200);
    expect((await httpGet(`http://${nodeAddress}:${KUBE_PROXY_HEALTHZ_PORT}/healthz`)).status).toBe(200);
  });

  it('survives malformed DNS messages over UDP and TCP and still answers a query', async () => {
    await fc.assert(
      fc.asyncProperty(dnsMessages, (message) => udpSend(dns.port, message)),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(dnsMessages, fc.integer({ min: -2, max: 2 }), endings, (message, skew, ending) => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(Math.max(0, message.length + skew), 0);
        return sendAndEnd('127.0.0.1', dns.port, Buffer.concat([prefix, message]), ending, 300).then(() => {});
      }),
      runs,
    );
    const answer = await dnsAnswer(dns.port, dnsQuery('web.default.svc.cluster.local', 7));
    expect(answer.readUInt16BE(6)).toBe(1);
  });

  it('survives malformed HTTP on the control server and still serves its paths', async () => {
    const port = Number(new URL(controlServer.url).port);
    await fc.assert(
      fc.asyncProperty(httpRequests, endings, (bytes, ending) => sendAndEnd('127.0.0.1', port, bytes, ending, 300).then(() => {})),
      runs,
    );
    expect(statusOf(await rawExchange('127.0.0.1', port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'))).toBe(200);
  });

  // An unexpected error is a bug to fix even when the guard survived it.
  it('logged no unexpected error on any of them', () => {
    expect(listenerGuard.counts()).toEqual([]);
  });

  it('still opens a normal TCP flow', async () => {
    const socket = connect({ host: lbIP, port: 9000 });
    const back = await new Promise<string>((resolve) => {
      socket.on('data', (c: Buffer) => resolve(c.toString()));
      socket.write('still here');
    });
    socket.destroy();
    expect(back).toBe('still here');
  });
}, 600_000);
