import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { clusterDnsAddress } from '../../src/cluster/netpol/cluster-dns.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { RESOLVER_TIMEOUT_MS } from '../../src/pods/process/node-preload.js';
import { CLUSTER_DNS_PORT } from '../../src/runtime/embedded-dns.js';
import { addressBlock } from '../helpers/addresses.js';
import { dnsAnswer, dnsQuery, tcpExchange, udpExchange } from '../helpers/dns.js';
import { webApp } from '../helpers/web-manifests.js';
import { httpGet } from '../helpers/net.js';

const addresses = addressBlock(31);
const DNS_IP = clusterDnsAddress(addresses.serviceCIDR);
const TIME_SCALE = 0.01;

/**
 * A process pod that looks names up and dials addresses on request:
 * GET /lookup?name=web → {"address"} or {"code","ms"}; GET /get?host=IP&port=80 → {"status"} or {"outcome"}.
 */
const CLIENT = `
const http = require('http'), dns = require('dns');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const reply = (body) => res.end(JSON.stringify(body));
  if (url.pathname === '/lookup') {
    const started = Date.now();
    return dns.lookup(url.searchParams.get('name'), (err, address) => reply(err ? { code: err.code, ms: Date.now() - started } : { address }));
  }
  const get = http.get({ host: url.searchParams.get('host'), port: Number(url.searchParams.get('port')), agent: false, timeout: 300 }, (r) => { r.resume(); reply({ status: r.statusCode }); });
  get.on('timeout', () => { get.destroy(); reply({ outcome: 'timeout' }); });
  get.on('error', (err) => { if (!res.writableEnded) reply({ outcome: err.code }); });
}).listen(process.env.PORT);
`;

const APP = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  replicas: 1
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: { app: client } }
    spec: { containers: [{ name: client, image: test/dns-client:1, ports: [{ containerPort: 8080 }] }] }
---
${webApp({ replicas: 1 })}`;

const DENY_EGRESS = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: client-deny-egress }
spec: { podSelector: { matchLabels: { app: client } }, policyTypes: [Egress] }
`;

/** The usual rule for lookups under a default deny: kube-dns's pods on 53/UDP. */
const ALLOW_DNS = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: client-dns }
spec:
  podSelector: { matchLabels: { app: client } }
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
          podSelector: { matchLabels: { k8s-app: kube-dns } }
      ports: [{ protocol: UDP, port: 53 }]
`;

describe('cluster DNS in the embedded runtime, policed by NetworkPolicy egress', () => {
  let cluster: Cluster;
  const clientIP = () => cluster.pods({ app: 'client' })[0]!.ip;
  const webIP = () => cluster.service('web').clusterIP;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the client's JSON answers, read field by field
  const ask = async (path: string): Promise<any> => JSON.parse((await httpGet(`http://${clientIP()}:8080${path}`, { timeoutMs: 10_000 })).body);

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: APP,
      workloads: [{ image: 'test/dns-client*', command: ['node', '-e', CLIENT] }],
      config: { addresses, ingress: { enabled: false } },
      timeScale: TIME_SCALE,
      waitTimeoutMs: 30_000,
    });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod ready' });
    // Ready has no probe to wait for: wait until the client's process listens.
    for (;;) {
      const res = await httpGet(`http://${clientIP()}:8080/lookup?name=localhost`).catch(() => undefined);
      if (res?.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('without a policy a process pod resolves Service names by asking kube-dns, and reaches them', async () => {
    expect(await ask('/lookup?name=web')).toEqual({ address: webIP() });
    expect(await ask('/lookup?name=web.default.svc.cluster.local')).toEqual({ address: webIP() });
    expect(await ask(`/get?host=${webIP()}&port=80`)).toEqual({ status: 200 });
  });

  it('a default deny of egress drops its lookups: EAI_AGAIN after two timeouts, and nothing else is reachable', async () => {
    await cluster.apply({ manifests: APP + DENY_EGRESS });
    const failed = await ask('/lookup?name=web');
    expect(failed.code).toBe('EAI_AGAIN');
    // Both attempts waited their (scaled) timeout: the queries went unanswered, not refused.
    expect(failed.ms).toBeGreaterThanOrEqual(2 * RESOLVER_TIMEOUT_MS * TIME_SCALE * 0.9);
    expect(await ask(`/get?host=${webIP()}&port=80`)).toEqual({ outcome: 'timeout' });
    // The listener itself drops both protocols from the pod's address: no reply at all.
    const query = dnsQuery('web.default.svc.cluster.local', 1);
    expect(await udpExchange(DNS_IP, CLUSTER_DNS_PORT, query, { localAddress: clientIP(), waitMs: 300 })).toBe('no reply');
    expect(await tcpExchange(DNS_IP, CLUSTER_DNS_PORT, query, { localAddress: clientIP(), waitMs: 300 })).toBe('no reply');
  });

  it('an egress rule to kube-dns on 53/UDP brings lookups back, and only lookups', async () => {
    await cluster.apply({ manifests: APP + DENY_EGRESS + ALLOW_DNS });
    expect(await ask('/lookup?name=web')).toEqual({ address: webIP() });
    expect(await ask(`/get?host=${webIP()}&port=80`)).toEqual({ outcome: 'timeout' });
    const query = dnsQuery('web.default.svc.cluster.local', 2);
    const answer = await udpExchange(DNS_IP, CLUSTER_DNS_PORT, query, { localAddress: clientIP() });
    expect(answer).toBeInstanceOf(Buffer);
    expect(dnsAnswer(answer as Buffer).addresses).toEqual([webIP()]);
    // The rule names UDP: DNS over TCP stays dropped.
    expect(await tcpExchange(DNS_IP, CLUSTER_DNS_PORT, query, { localAddress: clientIP(), waitMs: 300 })).toBe('no reply');
  });

  it('answers a query from outside the cluster, as CoreDNS answers whoever reaches it, over UDP and TCP', async () => {
    const query = dnsQuery('web.default.svc.cluster.local', 3);
    for (const answer of [await udpExchange(DNS_IP, CLUSTER_DNS_PORT, query), await tcpExchange(DNS_IP, CLUSTER_DNS_PORT, query)]) {
      expect(answer).toBeInstanceOf(Buffer);
      expect(dnsAnswer(answer as Buffer).addresses).toEqual([webIP()]);
    }
    // Names are absolute, as CoreDNS reads them: a bare `web` is the resolver's search list's business.
    const bare = await udpExchange(DNS_IP, CLUSTER_DNS_PORT, dnsQuery('web', 4));
    expect(bare).toBeInstanceOf(Buffer);
    expect(dnsAnswer(bare as Buffer).rcode).toBe(3);
  });

  it('survives malformed datagrams and still answers', async () => {
    const valid = dnsQuery('web.default.svc.cluster.local', 5);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0x12]),
      Buffer.alloc(12, 0xff),
      valid.subarray(0, 20),
      Buffer.concat([valid.subarray(0, 12), Buffer.from([200, 1, 2, 3])]),
      Buffer.concat([valid, Buffer.alloc(600, 0x3f)]),
      Buffer.from(valid.map((b, i) => (i === 12 ? 0xc0 : b))),
    ];
    for (const message of garbage) await udpExchange(DNS_IP, CLUSTER_DNS_PORT, message, { waitMs: 50 });
    await tcpExchange(DNS_IP, CLUSTER_DNS_PORT, Buffer.alloc(70_000, 0xff), { waitMs: 50, raw: true }).catch(() => 'reset');
    const answer = await udpExchange(DNS_IP, CLUSTER_DNS_PORT, valid);
    expect(dnsAnswer(answer as Buffer).addresses).toEqual([webIP()]);
  });
});
