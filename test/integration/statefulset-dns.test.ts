import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveServiceName } from '../../src/cluster/dns.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { runCurl } from '../helpers/curl.js';

/**
 * A MongoDB-shaped StatefulSet with its governing headless Service, and a client pod, in
 * their own namespace. The pods are echo pods on 8080, where they answer HTTP (on 27017
 * they would echo raw TCP, as a database port is not HTTP).
 */
const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: vote }
---
apiVersion: v1
kind: Service
metadata: { name: mongo, namespace: vote }
spec:
  clusterIP: None
  selector: { app: mongo }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: mongo, namespace: vote }
spec:
  serviceName: mongo
  replicas: 3
  selector: { matchLabels: { app: mongo } }
  template:
    metadata: { labels: { app: mongo } }
    spec:
      containers: [{ name: mongo, image: mongo:7, ports: [{ containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: vote }
spec:
  selector: { app: mongo }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: shell, namespace: vote, labels: { app: shell } }
spec:
  containers: [{ name: shell, image: busybox }]
---
apiVersion: v1
kind: Pod
metadata: { name: tools, labels: { app: tools } }
spec:
  containers: [{ name: tools, image: busybox }]
`;

describe('StatefulSet pod names and headless per-pod DNS', () => {
  let cluster: Cluster;
  let server: string;

  const run = (args: string[]) => runCurl(server, args);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(23), ingress: { enabled: false } }, timeScale: 0.01 });
    server = cluster.adminUrl!;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('names the pods <sts>-0, -1, -2 with their hostname and the governing Service as subdomain', () => {
    const pods = cluster.pods({ app: 'mongo' }, 'vote');
    expect(pods.map((p) => p.name).sort()).toEqual(['mongo-0', 'mongo-1', 'mongo-2']);
    for (const p of pods) expect(p).toMatchObject({ hostname: p.name, subdomain: 'mongo', labels: { 'statefulset.kubernetes.io/pod-name': p.name } });
  });

  it('shows hostname and subdomain in the pod object, as the StatefulSet controller sets them', async () => {
    const res = await fetch(`${server}/api/v1/namespaces/vote/pods/mongo-2`);
    expect(((await res.json()) as { spec: object }).spec).toMatchObject({ hostname: 'mongo-2', subdomain: 'mongo' });
  });

  it('aks-emu curl reaches one pod by every form of its name, from a pod of its namespace', async () => {
    const mongo1 = cluster.pods({ app: 'mongo' }, 'vote').find((p) => p.name === 'mongo-1')!;
    for (const host of ['mongo-1.mongo', 'mongo-1.mongo.vote', 'mongo-1.mongo.vote.svc', 'mongo-1.mongo.vote.svc.cluster.local']) {
      const { code, text } = await run(['--from', 'pod/shell', '-n', 'vote', `http://${host}:8080/`]);
      expect(code, text).toBe(0);
      expect(JSON.parse(text)).toMatchObject({ pod: 'mongo-1', localAddress: mongo1.ip });
    }
  });

  it('resolves the long forms from another namespace, and the headless Service name to every ready pod', async () => {
    const { code, text } = await run(['--from', 'pod/tools', 'http://mongo-2.mongo.vote.svc.cluster.local:8080/']);
    expect(code, text).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ pod: 'mongo-2' });
    const ips = cluster
      .pods({ app: 'mongo' }, 'vote')
      .map((p) => p.ip)
      .sort();
    expect(resolveServiceName(cluster.snapshot, 'mongo.vote', 'default').sort()).toEqual(ips);
    expect(resolveServiceName(cluster.snapshot, 'mongo', 'vote').sort()).toEqual(ips);
  });

  it("answers CoreDNS's other forms: an endpoint by its dashed IP, a pod record, and a name with a trailing dot as absolute", () => {
    const mongo0 = cluster.pods({ app: 'mongo' }, 'vote').find((p) => p.name === 'mongo-0')!;
    const dashed = mongo0.ip.replaceAll('.', '-');
    // mongo-0 has a hostname, so its endpoint answers under that name, not under its dashed IP.
    expect(() => resolveServiceName(cluster.snapshot, `${dashed}.mongo.vote.svc.cluster.local`, 'default')).toThrow(/no pod with hostname/);
    expect(resolveServiceName(cluster.snapshot, `${dashed}.vote.pod.cluster.local`, 'default')).toEqual([mongo0.ip]);
    expect(resolveServiceName(cluster.snapshot, 'mongo-0.mongo.vote.svc.cluster.local.', 'default')).toEqual([mongo0.ip]);
    // Absolute: the search list is not tried, so the short form names nothing.
    expect(() => resolveServiceName(cluster.snapshot, 'mongo-0.mongo.', 'vote')).toThrow(
      /Could not resolve host: mongo-0\.mongo \(not a name in the cluster domain\)/,
    );
  });

  it('says which part of a full name is missing, never "undefined"', async () => {
    const cases: [string, RegExp][] = [
      ['mongo-7.mongo.vote.svc.cluster.local', /no pod with hostname "mongo-7" and subdomain "mongo" behind headless Service "mongo" in namespace "vote"/],
      ['mongo-0.nosuch.vote.svc.cluster.local', /no Service "nosuch" in namespace "vote"/],
      ['mongo-0.api.vote.svc.cluster.local', /Service "api" in namespace "vote" is not headless/],
      ['web.nowhere.svc.cluster.local', /no Service "web" in namespace "nowhere"/],
    ];
    for (const [host, message] of cases) {
      const { code, text } = await run(['--from', 'pod/tools', `http://${host}:8080/`]);
      expect(code, text).toBe(6);
      expect(text).toMatch(message);
      expect(text).not.toMatch(/undefined/);
    }
  });

  it('drops a pod that is not ready from its names, and brings it back when it is', async () => {
    await cluster.setPodReady('mongo-0', false, 'vote');
    const gone = await run(['--from', 'pod/shell', '-n', 'vote', 'http://mongo-0.mongo:8080/']);
    expect(gone.code).toBe(6);
    expect(gone.text).toMatch(/pod "mongo-0" behind headless Service "mongo" in namespace "vote" is not ready/);
    expect(resolveServiceName(cluster.snapshot, 'mongo.vote.svc.cluster.local', 'default')).not.toContain(cluster.pods({ app: 'mongo' }, 'vote')[0]!.ip);
    await cluster.setPodReady('mongo-0', null, 'vote');
    await cluster.waitFor((s) => s.pods.some((p) => p.name === 'mongo-0' && p.ready), { what: 'mongo-0 ready again' });
    const back = await run(['--from', 'pod/shell', '-n', 'vote', 'http://mongo-0.mongo:8080/']);
    expect(back.code, back.text).toBe(0);
  });
});
