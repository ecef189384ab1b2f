/**
 * kube-proxy in the node containers' kernel (AKS_EMU_PROXY_MODE=nftables): the compose
 * deployment with real container pods, where ClusterIPs and NodePorts are translated by
 * each node's `ip aks-emu-kube-proxy` table. The table's counters move with the traffic, the
 * user-space listeners accept none of it, and /metrics counts it from the tables' counters; a pod calling a ClusterIP is seen as
 * itself; externalTrafficPolicy Local keeps the client's address and drops on a node
 * without an endpoint while aks-emu still answers the healthCheckNodePort; a fault on a
 * Service moves its ports back to user space, and removing it brings them back.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { main } from '../../src/cli/main.js';
import type { TraceView } from '../../src/dataplane/observe/traces.js';
import { parseExposition, total } from '../helpers/exposition.js';
import { httpGet } from '../helpers/net.js';
import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { CONTAINER_LABEL, POD_LABEL } from '../../src/runtime/container/container-host.js';
import { describeWithDocker, docker } from './docker-available.js';

const NODE_SERVICES = ['node-0', 'node-1', 'node-2'];
const NODES = ['10.224.0.4', '10.224.0.5', '10.224.0.6'];
const LOCAL_NODE_PORT = 30090;

/**
 * A node one-liner for the image's shells (busybox wget cannot tell a drop from a refusal):
 * one line per URL argument, `<status> <body without whitespace>`, `timeout` after 3 s, or
 * the error code. A new connection for each.
 */
const GET_EACH = `
const http = require('http');
const get = (url) => new Promise((resolve) => {
  const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve(res.statusCode + ' ' + body.replace(/\\s+/g, '')));
  });
  req.on('timeout', () => { req.destroy(); resolve('timeout'); });
  req.on('error', (e) => resolve(e.code));
});
(async () => { for (const url of process.argv.slice(1)) console.log(await get(url)); })();`;

interface Answer {
  pod: string;
  remoteAddress: string;
}
interface PodJson {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName: string };
  status: { podIP?: string };
}

describeWithDocker('kube-proxy in the node containers’ kernel (nftables mode)', () => {
  let project: ComposeProject | undefined;
  let lbUrl: string;

  const cli = async (args: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const code = await main([...args, '--server', project!.adminUrl], (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  };
  /** The node's kube-proxy table as `nft list` shows it ('' when there is none). */
  const table = async (service: string): Promise<string> =>
    docker(['exec', await project!.container(service), 'nft', 'list', 'table', 'ip', 'aks-emu-kube-proxy']).catch(() => '');
  /** Connections the kernel translated for a Service port, summed over the three nodes (the DNAT rules' counters). */
  const kernelCount = async (servicePort: string): Promise<number> => {
    let sum = 0;
    const pattern = new RegExp(`counter packets (\\d+) bytes \\d+ .*comment "${servicePort.replace(/\//g, '\\/')} -> `, 'g');
    for (const node of NODE_SERVICES) for (const m of (await table(node)).matchAll(pattern)) sum += Number(m[1]);
    return sum;
  };
  /** The lb's frontend table ('' when there is none). */
  const lbTable = async (): Promise<string> => docker(['exec', await project!.container('lb'), 'nft', 'list', 'table', 'ip', 'aks-emu-lb']).catch(() => '');
  /** The lb table's DNAT chains to a backend port: one per node the rule sends to. */
  const lbChains = async (backendPort: number): Promise<string[]> => (await lbTable()).split('\tchain ').filter((c) => c.includes(`:${backendPort} comment`));
  /** pod-app's answer; its dual-stack listener shows IPv4 clients as ::ffff:a.b.c.d. */
  const get = async (url: string): Promise<Answer> =>
    JSON.parse((await httpGet(url)).body, (key, value: unknown) =>
      key === 'remoteAddress' && typeof value === 'string' ? value.replace(/^::ffff:/, '') : value,
    ) as Answer;
  /** GET_EACH's lines, from a throwaway container on vnet (a VM in the VNet: no route into the service CIDR). */
  const getFromVnet = async (urls: readonly string[]): Promise<string[]> =>
    (await docker(['run', '--rm', '--network', `${project!.name}_vnet`, '--entrypoint', 'node', project!.image, '-e', GET_EACH, ...urls], 60_000))
      .trim()
      .split('\n');
  /** GET_EACH's lines, from inside a pod's app container. */
  const getFromPod = async (pod: string, container: string, urls: readonly string[]): Promise<string[]> => {
    const id = (await docker(['ps', '-q', '--filter', `label=${POD_LABEL}=default.${pod}`, '--filter', `label=${CONTAINER_LABEL}=${container}`])).trim();
    return (await docker(['exec', id, 'node', '-e', GET_EACH, ...urls])).trim().split('\n');
  };
  const unmapped = (address: string): string => address.replace(/^::ffff:/, '');
  const answerOf = (line: string): Answer => {
    const answer = JSON.parse(line.slice(line.indexOf(' ') + 1)) as Answer;
    return { ...answer, remoteAddress: unmapped(answer.remoteAddress) };
  };
  const pods = async (app: string): Promise<PodJson[]> =>
    ((await project!.admin('/api/v1/namespaces/default/pods')) as unknown as { items: PodJson[] }).items.filter((p) => p.metadata.labels?.app === app);
  const nodeAddress = (nodeName: string): string => NODES[Number(nodeName.slice(-1))]!;

  beforeAll(async () => {
    project = await startComposeProject({
      manifests: './test/container/fixtures/kernel',
      containerImages: 'aks-emu-test/*',
      projectPrefix: 'aks-emu-test-kernel',
      env: { AKS_EMU_PROXY_MODE: 'nftables', AKS_EMU_LB_MODE: 'nftables' },
    });
    lbUrl = `http://127.0.0.1:${await project.hostPort('lb', 80)}/`;
    await until('front served through the lb', async () => (await get(lbUrl)).pod?.startsWith('front-') || undefined, 120_000);
    await until('three back replicas ready', async () => (await pods('back')).filter((p) => p.status.podIP).length === 3 || undefined, 60_000);
    await until('every node has the table with back and front', async () => {
      for (const node of NODE_SERVICES) {
        const text = await table(node);
        if (!text.includes('"default/back:http -> ') || !text.includes('"default/front:http -> ')) return undefined;
      }
      return true;
    });
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('forwards LB → NodePort → pod in the kernel: the DNAT counters move, and /metrics counts them as kube-proxy’s and the LB’s connections', async () => {
    const frontNodePort = ((await project!.admin('/api/v1/namespaces/default/services/front')) as { spec: { ports: { nodePort: number }[] } }).spec.ports[0]!
      .nodePort;
    /** One scrape of control's /metrics: kube-proxy's, the endpoints', the lb's and the user-space NodePort listeners' counts for front. */
    const counts = async () => {
      const samples = parseExposition((await httpGet(`${project!.adminUrl}/metrics`, { timeoutMs: 20_000 })).body).samples;
      return {
        proxy: total(samples, 'aks_emu_kube_proxy_connections_total', { job: 'node', service: 'front' }),
        endpoints: total(samples, 'aks_emu_endpoint_connections_total', { job: 'node', service: 'front' }),
        lb: total(samples, 'aks_emu_lb_connections_total', { job: 'lb', service: 'default/front:http' }),
        picks: total(samples, 'aks_emu_lb_backend_picks_total', { job: 'lb', service: 'default/front:http' }),
        listeners: total(samples, 'aks_emu_listener_connections_total', { job: 'node', role: 'nodeport', port: String(frontNodePort) }),
        durations: total(samples, 'aks_emu_kube_proxy_connection_duration_seconds_count', { job: 'node', service: 'front' }),
        lbDurations: total(samples, 'aks_emu_lb_connection_duration_seconds_count', { job: 'lb', service: 'default/front:http' }),
      };
    };
    const [kernelBefore, before] = [await kernelCount('default/front:http'), await counts()];
    const answers: Answer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await get(lbUrl));
    // Cluster policy: masqueraded to the node the LB picked, as its address on the way out (vnet, or the
    // pod bridge when the pod is on that node, as kubenet's cbr0 address on AKS).
    for (const a of answers) expect([...NODES, '10.244.0.1', '10.244.1.1', '10.244.2.1']).toContain(a.remoteAddress);
    const kernelAfter = await kernelCount('default/front:http');
    expect(kernelAfter).toBeGreaterThanOrEqual(kernelBefore + 6);
    const after = await counts();
    // The user-space NodePort listeners accepted none of them: the kernel carried every one.
    expect(after.listeners).toBe(before.listeners);
    // /metrics reads the nodes' DNAT counters: kube-proxy's and the endpoints' connections move as the table's do.
    expect(after.proxy - before.proxy).toBe(kernelAfter - kernelBefore);
    expect(after.endpoints - before.endpoints).toBe(kernelAfter - kernelBefore);
    // The lb's frontend is in its kernel too (AKS_EMU_LB_MODE=nftables): its DNAT counters are the rule's connections and picks.
    expect(after.lb - before.lb).toBeGreaterThanOrEqual(6);
    expect(after.picks - before.picks).toBe(after.lb - before.lb);
    // Traces from the nodes' and the lb's conntrack events: the node hop names kube-proxy's decision, the pod and the source it saw.
    const traced = async () =>
      ((await project!.admin('/aks-emu/v1/traces?last=200')) as unknown as { items: TraceView[] }).items.filter(
        (t) => t['path'] === 'kernel' && t['end'] === 'closed' && (t['service'] === 'default/front' || t['instance'] === 'lb'),
      );
    const traces = await until('closed kernel traces of front at the nodes and the lb', async () => {
      const found = await traced();
      const hops = (t: TraceView) => t['hops'] as { hop: string; [k: string]: unknown }[];
      const node = found.filter((t) => hops(t).some((h) => h.hop === 'endpoint'));
      const lb = found.filter((t) => hops(t).some((h) => h.hop === 'lb-rule'));
      return node.length >= 6 && lb.length >= 6 ? { node, hops } : undefined;
    });
    const endpointHop = traces.hops(traces.node.at(-1)!).find((h) => h.hop === 'endpoint')!;
    expect(endpointHop['pod']).toMatch(/^default\/front-/);
    expect([...NODES, '10.244.0.1', '10.244.1.1', '10.244.2.1']).toContain(endpointHop['seenSource']);
    expect(traces.hops(traces.node.at(-1)!).find((h) => h.hop === 'kube-proxy')).toMatchObject({ service: 'default/front', port: 'http', path: 'kernel' });
    // The same conntrack events end the flows in the counters: a duration each at the nodes and the lb.
    await until('six more durations at the nodes and the lb', async () => {
      const ended = await counts();
      return (ended.durations >= before.durations + 6 && ended.lbDurations >= before.lbDurations + 6) || undefined;
    });
  });

  it('a pod calling a ClusterIP is seen by the endpoint as itself (as on AKS); a VM in the VNet through a node is masqueraded', async () => {
    const [front] = await pods('front');
    const backs = new Map((await pods('back')).map((p) => [p.metadata.name, p.spec.nodeName]));
    expect(new Set(backs.values()).size, 'back spread over the nodes').toBeGreaterThan(1);
    const gateway = `10.244.${front!.spec.nodeName.slice(-1)}.1`;
    const clusterIP = ((await project!.admin('/api/v1/namespaces/default/services/back')) as { spec: { clusterIP: string } }).spec.clusterIP;
    const before = await kernelCount('default/back:http');
    const answers = (
      await getFromPod(
        front!.metadata.name,
        'front',
        Array.from({ length: 6 }, () => `http://${clusterIP}/`),
      )
    ).map(answerOf);
    for (const a of answers) {
      // A back pod on front's own Docker bridge would answer front directly: that flow is masqueraded to the bridge's node address.
      expect(a.remoteAddress).toBe(backs.get(a.pod) === front!.spec.nodeName ? gateway : front!.status.podIP);
    }
    // Round robin over the three endpoints: each twice.
    expect(new Set(answers.map((a) => a.pod)).size).toBe(3);
    expect(answers.map((a) => a.remoteAddress)).toContain(front!.status.podIP);
    expect(await kernelCount('default/back:http')).toBeGreaterThanOrEqual(before + 6);

    const fromToolbox = JSON.parse(await project!.compose(['run', '--rm', 'toolbox', 'timeout', '5', 'wget', '-qO-', `http://${clusterIP}/`])) as Answer;
    expect(fromToolbox.pod).toMatch(/^back-/);
    expect(NODES).toContain(unmapped(fromToolbox.remoteAddress));
  });

  it('externalTrafficPolicy Local: keeps the client address, drops on nodes without an endpoint; aks-emu answers the healthCheckNodePort', async () => {
    const [front] = await pods('front');
    const home = nodeAddress(front!.spec.nodeName);
    const service = (await project!.admin('/api/v1/namespaces/default/services/front-local')) as { spec: { healthCheckNodePort: number } };
    const hc = service.spec.healthCheckNodePort;
    const drops = async () =>
      total(
        parseExposition((await httpGet(`${project!.adminUrl}/metrics`, { timeoutMs: 20_000 })).body).samples,
        'aks_emu_kube_proxy_kernel_dropped_packets_total',
        { job: 'node', service: 'front-local', reason: 'no_local_endpoint' },
      );
    const dropsBefore = await drops();
    const lines = await getFromVnet(NODES.flatMap((n) => [`http://${n}:${LOCAL_NODE_PORT}/`, `http://${n}:${hc}/`]));
    expect(lines).toHaveLength(6);
    const client = answerOf(lines[NODES.indexOf(home) * 2]!).remoteAddress;
    // The client is the throwaway container on vnet, not a node or the lb.
    expect(client).toMatch(/^10\.224\.255\./);
    NODES.forEach((n, i) => {
      const [served, health] = [lines[i * 2]!, lines[i * 2 + 1]!];
      if (n === home) {
        expect(served.startsWith('200 ')).toBe(true);
        expect(health).toMatch(/^200 .*"localEndpoints":1/);
      } else {
        expect(served).toBe('timeout');
        expect(health).toMatch(/^503 .*"localEndpoints":0/);
      }
    });
    // The two nodes without an endpoint dropped the SYNs (and the retries) in their kernel: /metrics counts them.
    expect(await drops()).toBeGreaterThanOrEqual(dropsBefore + 2);
  });

  it('the lb kernel table follows its probes: a stopped node leaves the rule, a Local rule goes to the node with the endpoint', async () => {
    const [front] = await pods('front');
    const targetsOf = async (port: number) => (await lbChains(port)).map((c) => /-> (\S+)"/.exec(c)![1]!);
    const frontNodePort = ((await project!.admin('/api/v1/namespaces/default/services/front')) as { spec: { ports: { nodePort: number }[] } }).spec.ports[0]!
      .nodePort;
    expect(await targetsOf(frontNodePort)).toHaveLength(3);
    // Local: the probes (healthCheckNodePort, answered by aks-emu) hold up only front's node.
    expect(await targetsOf(LOCAL_NODE_PORT)).toEqual([front!.spec.nodeName]);
    const victim = (await pods('back')).map((p) => p.spec.nodeName).find((n) => n !== front!.spec.nodeName)!;
    expect((await cli(['node', 'stop', victim])).code).toBe(0);
    try {
      await until('the stopped node out of the lb table', async () => {
        const now = await lbChains(frontNodePort);
        return (now.length === 2 && !now.some((c) => c.includes(`-> ${victim}"`))) || undefined;
      });
      for (let i = 0; i < 4; i++) expect((await get(lbUrl)).pod).toMatch(/^front-/);
    } finally {
      expect((await cli(['node', 'start', victim])).code).toBe(0);
    }
    await until('the node back in the lb table', async () => (await lbChains(frontNodePort)).length === 3 || undefined, 60_000);
  });

  it('moves a Service to user space while a fault is on it, and back to the kernel when it is removed', async () => {
    const added = await cli(['fault', 'add', 'reset', '--target', 'service/default/front', '--fraction', '1']);
    expect(added.code).toBe(0);
    const id = /fault (fault-\d+) added/.exec(added.out)?.[1];
    await until('front out of every node’s table', async () => {
      for (const node of NODE_SERVICES) if ((await table(node)).includes('"default/front:http -> ')) return undefined;
      return true;
    });
    const outcome = await httpGet(lbUrl).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(outcome).toBe('ECONNRESET');
    expect((await table('node-0')).includes('"default/back:http -> ')).toBe(true);
    expect((await cli(['fault', 'rm', id!])).code).toBe(0);
    await until('front back in the kernel', async () => (await table('node-0')).includes('"default/front:http -> ') || undefined);
    const before = await kernelCount('default/front:http');
    expect((await get(lbUrl)).pod).toMatch(/^front-/);
    expect(await kernelCount('default/front:http')).toBe(before + 1);
  });
});
