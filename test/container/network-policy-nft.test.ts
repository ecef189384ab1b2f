/**
 * A node's programming of its container pods' nftables rules against the real kernel,
 * without compose: two container pods on a Docker network of their own (the node's pod
 * network), their sandboxes started with their rulesets, and a policy change pushed into
 * the running sandboxes by ContainerHost.syncFirewalls (docker exec, one nft transaction).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { compileNetworkPolicies } from '../../src/cluster/netpol/table.js';
import type { Snapshot } from '../../src/cluster/snapshot.js';
import { CONTAINER_LABEL, ContainerPod } from '../../src/pods/container-pod.js';
import { ContainerHost, NODE_LABEL, POD_LABEL } from '../../src/runtime/container/container-host.js';
import { podResolvConf } from '../../src/runtime/container/toolbox.js';
import { load } from '../manifests/helpers.js';
import { container, pod as podInfo } from '../pods/pod-fixture.js';
import { LOCAL_BASE_IMAGE, describeWithDocker, docker } from './docker-available.js';
import { ensurePodImage } from './pod-image.js';

const RUN = randomBytes(3).toString('hex');
const NODE = `nft-test-${RUN}`;
const NETWORK = `aks-emu-test-nft-${RUN}`;
const SUBNET = '10.244.251.0/24';
const HOST = '10.244.251.254';
const GATEWAY = '10.244.251.1';
const SERVER = '10.244.251.10';
const CLIENT = '10.244.251.11';

describeWithDocker("a node's nftables rules in its container pods' sandboxes", () => {
  let host: ContainerHost | undefined;
  const pods: ContainerPod[] = [];
  const infos = [
    podInfo('server', SERVER, [container('server', [{ name: 'http', containerPort: 8080 }])], { namespace: 'default', nodeName: NODE }),
    podInfo('client', CLIENT, [container('client', [])], { namespace: 'default', nodeName: NODE }),
  ];
  let snapshot: Snapshot;

  /** The snapshot with these policies (none: no table), as control would ship it. */
  const withPolicies = (specs: object[]): Snapshot => {
    const manifests = load(
      specs.map((spec, i) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `p${i}`, namespace: 'default' }, spec })),
    ).manifests;
    const networkPolicy = compileNetworkPolicies({
      policies: manifests.networkPolicies ?? [],
      namespaces: [],
      pods: infos,
      nodes: [],
      clusterDns: '10.0.0.10',
    });
    return {
      pods: infos,
      settings: { addresses: { serviceCIDR: '10.0.0.0/16' } },
      ...(networkPolicy === undefined ? {} : { networkPolicy }),
    } as unknown as Snapshot;
  };
  const apply = async (next: Snapshot): Promise<void> => {
    snapshot = next;
    host!.snapshot = next;
    await host!.syncFirewalls(next);
  };
  const client = () => pods[1]!.containerId('client', false)!;
  /** The pod's sandbox container: it alone has NET_ADMIN to read the rules. */
  const sandbox = async (name: string): Promise<string> =>
    (await docker(['ps', '-q', '--filter', `label=${POD_LABEL}=default.${name}`, '--filter', `label=${CONTAINER_LABEL}=POD`])).trim();
  /** `open`, or `timeout` when the SYN goes unanswered. */
  const connect = async (): Promise<string> =>
    (
      await docker([
        'exec',
        client(),
        'node',
        '-e',
        `const s = require('net').connect({ host: '${SERVER}', port: 8080, timeout: 1500 });
         s.on('connect', () => { console.log('open'); s.destroy(); });
         s.on('timeout', () => { console.log('timeout'); s.destroy(); });
         s.on('error', (e) => console.log(e.code));`,
      ])
    ).trim();

  beforeAll(async () => {
    const image = await ensurePodImage();
    await docker(['network', 'create', '--subnet', SUBNET, '--gateway', HOST, '--ip-range', `${HOST}/32`, NETWORK]);
    host = await ContainerHost.detect({ node: NODE, podCIDR: SUBNET, gateway: GATEWAY, sandboxImage: LOCAL_BASE_IMAGE, log: (line) => console.log(line) });
    expect(host, 'the test network found by its subnet').toBeDefined();
    await apply(withPolicies([]));
    for (const info of infos) {
      const pod = new ContainerPod(info, {
        engine: host!.engine,
        containers: [{ name: info.containers[0]!.name, image, imagePullPolicy: 'IfNotPresent', env: [] }],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 1,
        sandboxImage: LOCAL_BASE_IMAGE,
        network: NETWORK,
        gateway: GATEWAY,
        resolvConf: podResolvConf('10.0.0.0/16', info.namespace),
        labels: { [NODE_LABEL]: NODE, [POD_LABEL]: `${info.namespace}.${info.name}` },
        timeScale: 0.01,
        firewall: () => host!.firewall(info.ip),
      });
      pods.push(pod);
      await pod.start();
    }
    const deadline = Date.now() + 30_000;
    while ((await connect().catch(() => 'not yet')) !== 'open') {
      if (Date.now() > deadline) throw new Error('the server pod never answered');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(pods.map((p) => p.stop()));
    const left = (await docker(['ps', '-aq', '--filter', `label=${NODE_LABEL}=${NODE}`])).trim();
    if (left) await docker(['rm', '-f', ...left.split('\n')]);
    await docker(['network', 'rm', NETWORK]).catch(() => undefined);
    await host?.close();
  }, 60_000);

  it('starts every sandbox with the table (conntrack on), accepting while no policy isolates the pod', async () => {
    const ruleset = await docker(['exec', await sandbox('client'), 'nft', 'list', 'table', 'inet', 'aks-emu-netpol']);
    expect(ruleset).toContain('ct state established,related accept');
    expect(ruleset).not.toContain('drop');
  });

  it('pushes a default deny into the running server: new connections time out, an established one keeps going', async () => {
    const held = spawn('docker', [
      'exec',
      '-i',
      client(),
      'node',
      '-e',
      `const s = require('net').connect({ host: '${SERVER}', port: 8080 }, () => console.log('connected'));
       s.on('data', (d) => { console.log(String(d).split('\\r\\n')[0]); s.destroy(); });
       s.on('error', (e) => console.log(e.code));
       process.stdin.once('data', () => s.write('GET /held HTTP/1.1\\r\\nhost: server\\r\\nconnection: close\\r\\n\\r\\n'));`,
    ]);
    const lines = createInterface({ input: held.stdout })[Symbol.asyncIterator]();
    try {
      expect((await lines.next()).value).toBe('connected');
      await apply(withPolicies([{ podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] }]));
      expect(await connect()).toBe('timeout');
      held.stdin.write('go\n');
      expect((await lines.next()).value).toBe('HTTP/1.1 200 OK');
    } finally {
      held.kill();
    }
    expect(await docker(['exec', await sandbox('server'), 'nft', 'list', 'chain', 'inet', 'aks-emu-netpol', 'ingress'])).toContain('drop');
  });

  it('replaces the rules whole when the policy changes: an allow for the client opens the path, removing every policy leaves it open', async () => {
    await apply(
      withPolicies([
        { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] },
        {
          podSelector: { matchLabels: { app: 'server' } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] }],
        },
      ]),
    );
    expect(await connect()).toBe('open');
    await apply(withPolicies([{ podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] }]));
    expect(await connect()).toBe('timeout');
    await apply(withPolicies([]));
    expect(snapshot.networkPolicy).toBeUndefined();
    expect(await connect()).toBe('open');
  });
});
