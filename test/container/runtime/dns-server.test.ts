import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type Cluster } from '../../../src/index.js';
import { buildAnswer, parseQuery, RCODE } from '../../../src/runtime/container/dns-message.js';
import { ClusterDnsServer } from '../../../src/runtime/container/dns-server.js';
import { addressBlock } from '../../helpers/addresses.js';

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

function query(name: string, type = 1): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

interface Answer {
  rcode: number;
  addresses: string[];
}

function decode(message: Buffer): Answer {
  const rcode = message.readUInt16BE(2) & 0xf;
  const count = message.readUInt16BE(6);
  const question = parseQuery(Buffer.concat([message.subarray(0, 2), Buffer.from([0x01, 0x00]), message.subarray(4)]))!;
  let offset = 12 + question.raw.length;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    addresses.push([...message.subarray(offset + 12, offset + 16)].join('.'));
    offset += 16;
  }
  return { rcode, addresses };
}

describe('the cluster DNS responder', () => {
  let cluster: Cluster;
  let dns: ClusterDnsServer;
  const address = addressBlock(26).serviceCIDR.replace(/0\.0\/16$/, '0.10');

  const ask = (name: string, type = 1): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('message', (message) => {
        socket.close();
        resolve(decode(message));
      });
      socket.once('error', reject);
      socket.send(query(name, type), dns.port, address);
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
    const q = parseQuery(query('web'))!;
    const answer = buildAnswer(q, RCODE.nxDomain, [], 5);
    expect(answer.readUInt16BE(0)).toBe(0x1234);
    expect(answer.readUInt16BE(2) & 0x0100).toBe(0x0100);
    expect(answer.subarray(12)).toEqual(q.raw);
  });
});
