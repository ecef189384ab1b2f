import { afterAll, beforeAll, expect, it } from 'vitest';

import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { describeWithDocker, docker } from './docker-available.js';

interface PodList {
  items: { metadata: { name: string; labels?: Record<string, string> }; spec: { nodeName?: string }; status: { podIP?: string; phase?: string } }[];
}

interface Pod {
  readonly name: string;
  readonly app: string;
  readonly ip: string;
  readonly node: string;
}

/**
 * NetworkPolicy on the pods' own traffic in the container runtime: a container pod dialling
 * another pod's IP (same node: one Docker bridge; other node: routed through both node
 * containers) and its DNS lookups are decided by the nftables rules in its and the
 * destination's sandbox, programmed by the nodes from the snapshot's compiled policies
 * (fixtures/netpol-direct). Live policy changes and established connections:
 * network-policy-nft.test.ts (the container runtime's control has no write API).
 */
describeWithDocker('NetworkPolicy for direct pod-IP traffic between container pods', () => {
  let project: ComposeProject | undefined;
  let pods: Pod[] = [];

  const of = (app: string) => pods.filter((p) => p.app === app);
  const one = (app: string) => of(app)[0]!;
  /** The replica of `app` on `from`'s node, or on another node. */
  const onNode = (app: string, from: Pod) => of(app).find((p) => p.node === from.node)!;
  const offNode = (app: string, from: Pod) => of(app).find((p) => p.node !== from.node)!;

  const containerOf = async (pod: Pod): Promise<string> =>
    (await docker(['ps', '-q', '--filter', `label=io.aks-emu.pod=default.${pod.name}`, '--filter', `label=io.aks-emu.container=${pod.app}`]))
      .trim()
      .split('\n')[0]!;

  /** Runs node in the pod's container (its network namespace, so its sandbox's rules apply). */
  const nodeIn = async (pod: Pod, script: string): Promise<string> => (await docker(['exec', await containerOf(pod), 'node', '-e', script], 30_000)).trim();

  /** `open` when a TCP connection from `from` to `to`'s pod IP is accepted, `timeout` when its SYN goes unanswered. */
  const connect = (from: Pod, to: Pod): Promise<string> =>
    nodeIn(
      from,
      `const s = require('net').connect({ host: '${to.ip}', port: 8080, timeout: 1500 });
       s.on('connect', () => { console.log('open'); s.destroy(); });
       s.on('timeout', () => { console.log('timeout'); s.destroy(); });
       s.on('error', (e) => console.log(e.code));`,
    );

  /** The HTTP status of a GET from `from` to an address (a ClusterIP), or `timeout` after 2 s. */
  const get = (from: Pod, host: string, port: number): Promise<string> =>
    nodeIn(
      from,
      `const req = require('http').get({ host: '${host}', port: ${port}, timeout: 2000, agent: false }, (res) => { console.log(res.statusCode); res.resume(); });
       req.on('timeout', () => { console.log('timeout'); req.destroy(); });
       req.on('error', () => {});`,
    );

  /** The cluster DNS answer (UDP) for the server's Service, or the resolver's error code. */
  const lookup = (from: Pod): Promise<string> =>
    nodeIn(
      from,
      `const r = new (require('dns').promises.Resolver)({ timeout: 1500, tries: 1 });
       r.resolve4('server.default.svc.cluster.local').then((a) => console.log('answer', a.length), (e) => console.log(e.code));`,
    );

  beforeAll(async () => {
    project = await startComposeProject({
      manifests: './test/container/fixtures/netpol-direct',
      containerImages: 'aks-emu-test/*',
      projectPrefix: 'aks-emu-test-npdirect',
    });
    pods = await until(
      'the ten pods running with IPs',
      async () => {
        const list = (await project!.admin('/api/v1/namespaces/default/pods')) as unknown as PodList;
        const running = list.items.filter((p) => p.status.phase === 'Running' && p.status.podIP);
        if (running.length < 10) return undefined;
        return running.map((p) => ({ name: p.metadata.name, app: p.metadata.labels?.['app'] ?? '', ip: p.status.podIP!, node: p.spec.nodeName ?? '' }));
      },
      180_000,
    );
    // Every container is up (an exec answers) before the first assertion.
    for (const pod of pods) await until(`pod ${pod.name} answering exec`, async () => (await nodeIn(pod, 'console.log(1)')) === '1', 120_000);
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('drops a direct connection to an isolated pod from the same node and across nodes (the client times out)', async () => {
    const client = one('client');
    expect(new Set(of('locked').map((p) => p.node)).size, 'locked spread over the three nodes').toBe(3);
    expect(await connect(client, onNode('locked', client))).toBe('timeout');
    expect(await connect(client, offNode('locked', client))).toBe('timeout');
    // The pod's node still reaches it (kubelet probes, kube-proxy): the pods are Ready.
    const ready = (await project!.admin('/api/v1/namespaces/default/pods')) as unknown as {
      items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
    };
    const lockedReady = ready.items.filter(
      (p) => p.metadata.name.startsWith('locked-') && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    expect(lockedReady).toHaveLength(3);
  });

  it('lets exactly the selected client in, on the same node and across nodes', async () => {
    const client = one('client');
    const other = one('other');
    expect(await connect(client, onNode('server', client))).toBe('open');
    expect(await connect(client, offNode('server', client))).toBe('open');
    expect(await connect(other, onNode('server', other))).toBe('timeout');
    expect(await connect(other, offNode('server', other))).toBe('timeout');
  });

  it('an egress default deny drops the pod’s direct calls and its DNS lookups; a rule for kube-dns on 53 allows lookups only', async () => {
    const nodns = one('nodns');
    const dnsonly = one('dnsonly');
    expect(await connect(one('other'), one('client'))).toBe('open');
    expect(await lookup(one('other'))).toBe('answer 1');
    expect(await connect(nodns, one('client'))).toBe('timeout');
    expect(await lookup(nodns)).toBe('ETIMEOUT');
    expect(await lookup(dnsonly)).toBe('answer 1');
    expect(await connect(dnsonly, one('client'))).toBe('timeout');
  });

  it('lets a ClusterIP call leave the pod and has the node decide it by the calling pod', async () => {
    const services = (await project!.admin('/api/v1/namespaces/default/services')) as unknown as {
      items: { metadata: { name: string }; spec: { clusterIP: string } }[];
    };
    const clusterIP = services.items.find((s) => s.metadata.name === 'server')!.spec.clusterIP;
    expect(await get(one('client'), clusterIP, 80)).toBe('200');
    // The pod's rules let the service CIDR out; kube-proxy on the node holds the flow silent:
    // dnsonly's egress allows no server, other is not in server's ingress.
    expect(await get(one('dnsonly'), clusterIP, 80)).toBe('timeout');
    expect(await get(one('other'), clusterIP, 80)).toBe('timeout');
  });
});
