import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type Cluster } from '../../../src/index.js';
import { buildAnswer, parseQuery, RCODE } from '../../../src/dataplane/dns/message.js';
import { ClusterDnsServer } from '../../../src/dataplane/dns/server.js';
import { addressBlock } from '../../helpers/addresses.js';
import { dnsAnswer, dnsQuery, type DnsAnswer } from '../../helpers/dns.js';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web-headless }
spec: { clusterIP: None, selector: { app: web }, ports: [{ port: 8080 }] }
`;

describe('the cluster DNS responder', () => {
  let cluster: Cluster;
  let dns: ClusterDnsServer;
  const address = addressBlock(26).serviceCIDR.replace(/0\.0\/16$/, '0.10');

  const ask = (name: string, type = 1): Promise<DnsAnswer> =>
    new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('message', (message) => {
        socket.close();
        resolve(dnsAnswer(message));
      });
      socket.once('error', reject);
      socket.send(dnsQuery(name, 0x1234, type), dns.port, address);
    });

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(26), ingress: { enabled: false } }, admin: false });
    dns = await ClusterDnsServer.start(address, 0);
    dns.update(cluster.snapshot);
  });

  afterAll(async () => {
    await dns?.stop();
    await cluster?.stop();
  });

  it('answers every CoreDNS form of a Service name with its ClusterIP', async () => {
    const clusterIP = cluster.service('web').clusterIP;
    for (const name of ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local']) {
      expect(await ask(name)).toEqual({ rcode: RCODE.noError, addresses: [clusterIP] });
    }
  });

  it('answers a headless Service with the IPs of its ready pods', async () => {
    const answer = await ask('web-headless.default.svc.cluster.local');
    expect(answer.addresses.sort()).toEqual(
      cluster
        .pods({ app: 'web' })
        .map((p) => p.ip)
        .sort(),
    );
  });

  it("answers a headless Service's pods without a hostname under their dashed IP, as CoreDNS does", async () => {
    const [pod] = cluster.pods({ app: 'web' });
    const name = `${pod!.ip.replaceAll('.', '-')}.web-headless.default.svc.cluster.local`;
    expect(await ask(name)).toEqual({ rcode: RCODE.noError, addresses: [pod!.ip] });
    expect(await ask(`${pod!.ip.replaceAll('.', '-')}.web.default.svc.cluster.local`)).toEqual({ rcode: RCODE.nxDomain, addresses: [] });
  });

  it('answers NXDOMAIN for names outside the cluster and NODATA for AAAA of a Service', async () => {
    expect(await ask('nosuch.default.svc.cluster.local')).toEqual({ rcode: RCODE.nxDomain, addresses: [] });
    expect(await ask('example.com')).toEqual({ rcode: RCODE.nxDomain, addresses: [] });
    expect(await ask('web.default.svc.cluster.local', 28)).toEqual({ rcode: RCODE.noError, addresses: [] });
  });

  it('echoes the question and the recursion flag in every answer', () => {
    const q = parseQuery(dnsQuery('web', 0x1234))!;
    const answer = buildAnswer(q, RCODE.nxDomain, [], 5);
    expect(answer.readUInt16BE(0)).toBe(0x1234);
    expect(answer.readUInt16BE(2) & 0x0100).toBe(0x0100);
    expect(answer.subarray(12)).toEqual(q.raw);
  });
});
