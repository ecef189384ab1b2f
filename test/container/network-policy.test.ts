import { afterAll, beforeAll, expect, it } from 'vitest';

import { httpGet } from '../helpers/net.js';
import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { describeWithDocker } from './docker-available.js';

/**
 * The same user-space NetworkPolicy decisions in the container runtime: the node
 * containers run kube-proxy and the ingress controller from the shipped snapshot, so its
 * policy table applies there (docs/network-policy.md says what is not covered).
 */
describeWithDocker('NetworkPolicy in the container runtime', () => {
  let project: ComposeProject | undefined;
  let lbUrl: string;
  let ingressUrl: string;

  const viaIngress = (host: string) => httpGet(ingressUrl, { headers: { host }, timeoutMs: 10_000 });

  beforeAll(async () => {
    project = await startComposeProject({ manifests: './test/container/fixtures/netpol', containerImages: '', projectPrefix: 'aks-emu-test-netpol' });
    lbUrl = `http://127.0.0.1:${await project.hostPort('lb', 80)}/`;
    ingressUrl = `http://127.0.0.1:${await project.hostPort('lb', 8081)}/`;
    await until('the ingress path to api', async () => (await viaIngress('api.example.com')).status === 200, 60_000);
    // The LB's probes (exempt from policies, as Azure's 168.63.129.16 is) find web's nodes healthy.
    await until("every node up on web's rule", async () => {
      type View = { items: { loadBalancingRules: { service: string; probe: string | null }[]; probes: { name: string; backends: { state: string }[] }[] }[] };
      const view = (await project!.admin('/aks-emu/v1/loadbalancers')) as unknown as View;
      const lb = view.items.find((l) => l.loadBalancingRules.some((r) => r.service === 'default/web'));
      const probe = lb?.probes.find((p) => p.name === lb.loadBalancingRules.find((r) => r.service === 'default/web')?.probe);
      return probe !== undefined && probe.backends.length === 3 && probe.backends.every((b) => b.state === 'up');
    });
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('carries the compiled policies in the snapshot the nodes run', async () => {
    const snapshot = (await project!.admin('/aks-emu/v1/snapshot')) as { networkPolicy?: { policies: { key: string }[] } };
    expect(snapshot.networkPolicy?.policies.map((p) => p.key)).toEqual(['default/api-from-ingress', 'default/web-deny-all']);
  });

  it('drops the LB path to an isolated pod: the client times out without a reset', async () => {
    await expect(httpGet(lbUrl, { timeoutMs: 1_500 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('lets the ingress controller reach what its namespace is allowed, and answers 504 for the rest', async () => {
    expect((await viaIngress('api.example.com')).status).toBe(200);
    expect((await viaIngress('web.example.com')).status).toBe(504);
  });

  it('drops a ClusterIP connection from outside the allowed namespace (the toolbox), not one to an unselected pod', async () => {
    const snapshot = (await project!.admin('/aks-emu/v1/snapshot')) as { services: { name: string; clusterIP: string }[] };
    const ip = (name: string) => snapshot.services.find((s) => s.name === name)!.clusterIP;
    // node's http client: one line per Service, its status or `timeout` (busybox wget is no use in the FROM-scratch base).
    const script = `for (const [name, host] of [['open', '${ip('open')}'], ['api', '${ip('api')}']]) {
      const req = require('http').get({ host, timeout: 2000, agent: false }, (res) => { console.log(name, res.statusCode); res.resume(); });
      req.on('timeout', () => { console.log(name, 'timeout'); req.destroy(); });
      req.on('error', () => {});
    }`;
    const out = await project!.compose(['run', '--rm', 'toolbox', 'node', '-e', script]);
    expect(out.trim().split('\n').sort()).toEqual(['api timeout', 'open 200']);
  });
});
