import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { main } from '../../src/cli/main.js';
import { echo } from '../helpers/net.js';
import { startComposeProject, until, type ComposeProject, type Json } from './compose-project.js';
import { describeWithDocker, docker } from './docker-available.js';

const NODES = ['10.224.0.4', '10.224.0.5', '10.224.0.6'];
const INTERNAL_FRONTEND = '10.224.0.7';
const NODE_PORT = 30080;

interface PodJson {
  metadata: { name: string };
  status: { podIP?: string; containerStatuses: { restartCount: number; state: Record<string, { reason?: string }> }[] };
}

describeWithDocker('the compose deployment (control, lb, three nodes, toolbox)', () => {
  let project: ComposeProject | undefined;
  let lbUrl: string;
  let adminUrl: string;

  const compose = (args: readonly string[]): Promise<string> => project!.compose(args);
  const container = (service: string): Promise<string> => project!.container(service);
  /** A throwaway busybox shell on one of the project's networks (no route added: plain network reachability). */
  const shellOn = (network: string, script: string): Promise<string> =>
    docker(['run', '--rm', '--network', `${project!.name}_${network}`, '--entrypoint', 'sh', project!.image, '-c', script], 30_000);
  const toolbox = (...command: string[]): Promise<string> => compose(['run', '--rm', 'toolbox', ...command]);
  const admin = (path: string): Promise<Json> => project!.admin(path);

  /** The web rule's probe state per node, as `aks-emu get lb` shows it. */
  const probeStates = async (): Promise<Record<string, string>> => {
    type View = {
      items: { loadBalancingRules: { service: string; probe: string | null }[]; probes: { name: string; backends: { node: string; state: string }[] }[] }[];
    };
    const view = (await admin('/aks-emu/v1/loadbalancers')) as unknown as View;
    const states: Record<string, string> = {};
    for (const lb of view.items) {
      const probe = lb.loadBalancingRules.find((r) => r.service === 'default/web')?.probe;
      for (const b of lb.probes.find((p) => p.name === probe)?.backends ?? []) states[b.node] = b.state;
    }
    return states;
  };
  /** Which node received each of n new flows through the published LB port (the pod sees it under SNAT). */
  const nodesSeen = async (n: number): Promise<string[]> => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push((await echo(lbUrl)).remoteAddress);
    return seen;
  };

  beforeAll(async () => {
    project = await startComposeProject({
      manifests: './test/container/fixtures/manifests',
      // The suite's own image and a registry that refuses at once run as real containers; web stays an echo pod.
      containerImages: 'aks-emu-test/*,127.0.0.1:1/*',
    });
    lbUrl = `http://127.0.0.1:${await project.hostPort('lb', 80)}/`;
    adminUrl = project.adminUrl;
    await until('three nodes up on the web rule', async () => Object.values(await probeStates()).filter((s) => s === 'up').length === 3);
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('spreads new flows round robin over the three node containers through the published LB port', async () => {
    const seen = await nodesSeen(6);
    expect([...seen].sort()).toEqual([...NODES, ...NODES].sort());
    // Round robin: three flows in a row reach three different nodes.
    expect(new Set(seen.slice(0, 3)).size).toBe(3);
  });

  it('answers aks-emu get with --server like the embedded runtime', async () => {
    const lines: string[] = [];
    const code = await main(['get', 'svc', '--server', adminUrl], (line) => lines.push(line));
    expect(code).toBe(0);
    const table = lines.join('\n');
    expect(table).toMatch(/web\s+LoadBalancer\s+10\.0\.\d+\.\d+\s+172\.30\.0\.\d+\s+80:\d+\/TCP/);
    expect(table).toMatch(new RegExp(`web-internal\\s+LoadBalancer\\s+\\S+\\s+${INTERNAL_FRONTEND.replace(/\./g, '\\.')}\\s`));
  });

  it('keeps the internal frontend off the public network and serves it on vnet', async () => {
    const fromPublic = await shellOn('public', `timeout 3 wget -qO- http://${INTERNAL_FRONTEND}:8080/ >/dev/null 2>&1 && echo reached || echo unreachable`);
    expect(fromPublic.trim()).toBe('unreachable');
    const fromVnet = JSON.parse(await shellOn('vnet', `timeout 5 wget -qO- http://${INTERNAL_FRONTEND}:8080/`)) as Json;
    expect(fromVnet.pod).toMatch(/^web-/);
  });

  it('serves the NodePort on every node from vnet and not from the public network', async () => {
    const script = NODES.map((ip) => `timeout 5 wget -qO- http://${ip}:${NODE_PORT}/; echo`).join('; ');
    const answers = (await shellOn('vnet', script))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    expect(answers.map((a) => a.localPort)).toEqual([8080, 8080, 8080]);
    const fromPublic = await shellOn('public', `timeout 3 wget -qO- http://${NODES[0]}:${NODE_PORT}/ >/dev/null 2>&1 && echo reached || echo unreachable`);
    expect(fromPublic.trim()).toBe('unreachable');
  });

  it('reaches a ClusterIP from the toolbox while the host has no route into the service CIDR', async () => {
    const services = (await admin('/api/v1/namespaces/default/services/web-nodeport')) as { spec: { clusterIP: string } };
    const clusterIP = services.spec.clusterIP;
    const answer = JSON.parse(await toolbox('timeout', '5', 'wget', '-qO-', `http://${clusterIP}:8080/`)) as Json;
    expect(answer.pod).toMatch(/^web-/);
    // No packet is sent from the host: its routing table shows the VIP lies on no network of this deployment.
    const vnetId = (await docker(['network', 'inspect', '-f', '{{.Id}}', `${project!.name}_vnet`])).trim();
    const route = spawnSync('ip', ['route', 'get', clusterIP], { encoding: 'utf8' });
    expect(`${route.stdout}${route.stderr}`).not.toContain(`br-${vnetId.slice(0, 12)}`);
  });

  it('resolves Service names through the cluster DNS at 10.0.0.10', async () => {
    const names = ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local'];
    // One toolbox run (each `compose run` costs seconds): the answers, then the two lookups after a marker.
    const script = [
      ...names.map((name) => `timeout 5 wget -qO- http://${name}/; echo`),
      'echo ---',
      'nslookup web-headless.default.svc.cluster.local',
      'echo ---',
      'nslookup nosuch.default.svc.cluster.local 2>&1; true',
    ].join('; ');
    const [answers, headless, missing] = (await toolbox('sh', '-c', script)).split('---\n');
    expect(
      answers!
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as Json).host),
    ).toEqual(names);
    expect(headless!.match(/Address: 10\.244\.\d+\.\d+/g)?.length).toBe(3);
    expect(missing).toContain('NXDOMAIN');
  });

  it('routes an Ingress through the ingress controller pods in the node containers', async () => {
    const ingressUrl = `http://127.0.0.1:${await project!.hostPort('lb', 8081)}/through-ingress`;
    const answer = await until('the ingress controller ready', async () => echo(ingressUrl));
    expect(answer.pod).toMatch(/^web-/);
    expect(answer.path).toBe('/through-ingress');
  });

  const pods = async (prefix: string): Promise<PodJson[]> =>
    ((await admin('/api/v1/namespaces/default/pods')) as unknown as { items: PodJson[] }).items.filter((p) => p.metadata.name.startsWith(`${prefix}-`));
  const podLog = async (name: string, previous = false): Promise<string> =>
    (await fetch(`${adminUrl}/api/v1/namespaces/default/pods/${name}/log${previous ? '?previous=true' : ''}`)).text();

  it('runs pods of a local image as real containers: front calls back by its Service name through the ClusterIP', async () => {
    const answer = await until('front reaching back', async () => {
      const body = JSON.parse(await toolbox('timeout', '5', 'wget', '-qO-', 'http://front/call?url=http://back/through-front')) as Json;
      return body.status === 200 ? (body.body as Json) : undefined;
    });
    expect(answer.pod).toMatch(/^back-/);
    expect(answer.path).toBe('/through-front');
    const running = await docker(['ps', '--filter', 'label=io.aks-emu.container=back', '--format', '{{.Image}}']);
    expect(running.trim().split('\n')).toEqual(['aks-emu-test/pod-app:1', 'aks-emu-test/pod-app:1']);
  });

  it('gives a container the environment, hostname and DNS settings Kubernetes gives it', async () => {
    const [back] = await pods('back');
    const service = (await admin('/api/v1/namespaces/default/services/back')) as { spec: { clusterIP: string } };
    const reply = JSON.parse(await toolbox('timeout', '5', 'wget', '-qO-', `http://${back!.status.podIP}:8080/env`)) as {
      env: Record<string, string>;
      hostname: string;
      resolvConf: string;
    };
    expect(reply.hostname).toBe(back!.metadata.name);
    expect(reply.env).toMatchObject({
      HOSTNAME: back!.metadata.name,
      GREETING_TWICE: 'hello hello',
      POD_IP: back!.status.podIP,
      LEVEL: 'debug',
      CFG_colour: 'blue',
      BACK_SERVICE_HOST: service.spec.clusterIP,
      BACK_SERVICE_PORT: '80',
      FRONT_SERVICE_PORT: '80',
    });
    expect(reply.resolvConf).toContain('nameserver 10.0.0.10');
    expect(reply.resolvConf).toContain('search default.svc.cluster.local svc.cluster.local cluster.local');
  });

  it('shows an image that cannot be had as ErrImagePull / ImagePullBackOff, not as an echo pod', async () => {
    const lines: string[] = [];
    await until('the pull failing', async () => {
      lines.length = 0;
      await main(['get', 'pods', '--server', adminUrl], (line) => lines.push(line));
      return /ghost-\S+\s+0\/1\s+(ErrImagePull|ImagePullBackOff)\s/.test(lines.join('\n'));
    });
    const list = (await admin('/api/v1/namespaces/default/pods')) as unknown as {
      items: { metadata: { name: string; annotations: Record<string, string> } }[];
    };
    const ghost = list.items.find((p) => p.metadata.name.startsWith('ghost-'));
    expect(ghost?.metadata.annotations['aks-emu.io/pod-kind']).toBe('container');
    expect(await docker(['ps', '-q', '--filter', 'label=io.aks-emu.container=ghost'])).toBe('');
  });

  it("keeps each container's log and restarts a killed container with RESTARTS counted (logs and kill through the admin API)", async () => {
    const [back] = await pods('back');
    const name = back!.metadata.name;
    await toolbox('timeout', '5', 'wget', '-qO-', `http://${back!.status.podIP}:8080/before-kill`);
    expect(await until('the request in the log', async () => (await podLog(name)).includes('GET /before-kill') || undefined)).toBe(true);
    const killed = await fetch(`${adminUrl}/aks-emu/v1/namespaces/default/pods/${name}/kill`, { method: 'POST' });
    expect(killed.status).toBe(200);
    await until('back restarted and running', async () => {
      const [again] = (await pods('back')).filter((p) => p.metadata.name === name);
      const status = again?.status.containerStatuses[0];
      return status !== undefined && status.restartCount === 1 && 'running' in status.state;
    });
    expect(await podLog(name, true)).toContain('GET /before-kill');
    expect(await podLog(name)).not.toContain('GET /before-kill');
  });

  it('takes a stopped node container out by probes and back after docker start', async () => {
    const node1 = await container('node-1');
    await docker(['stop', '-t', '2', node1]);
    await until('node 1 down by probes', async () => (await probeStates())['aks-nodepool1-12345678-vmss000001'] === 'down');
    expect(new Set(await nodesSeen(4))).toEqual(new Set([NODES[0], NODES[2]]));
    await until('node 1 NotReady', async () => {
      const node = (await admin('/api/v1/nodes/aks-nodepool1-12345678-vmss000001')) as { status: { conditions: { type: string; status: string }[] } };
      return node.status.conditions.find((c) => c.type === 'Ready')?.status !== 'True';
    });
    await docker(['start', node1]);
    await until('node 1 up by probes', async () => (await probeStates())['aks-nodepool1-12345678-vmss000001'] === 'up');
    expect(new Set(await nodesSeen(6))).toEqual(new Set(NODES));
  });
});
