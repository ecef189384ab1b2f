import { afterAll, beforeAll, expect, it } from 'vitest';

import { main } from '../../src/cli/main.js';
import { echo, httpGet } from '../helpers/net.js';
import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { describeWithDocker } from './docker-available.js';

const GATEWAY_SERVICE = 'echo-gateway-approuting-istio';

interface PodJson {
  metadata: { name: string; annotations: Record<string, string> };
  spec: { nodeName: string };
  status: { podIP: string };
}

describeWithDocker('a Gateway in the compose deployment (approuting-istio, gateway pods in node containers)', () => {
  let project: ComposeProject | undefined;
  let gatewayUrl: string;
  let frontend: string;

  beforeAll(async () => {
    // Every pod is built in (echo and gateway pods): no pod image is needed.
    project = await startComposeProject({ manifests: './test/container/fixtures/gateway', containerImages: '' });
    const service = (await until('the Gateway Service to get a frontend', async () => {
      const svc = (await project!.admin(`/api/v1/namespaces/default/services/${GATEWAY_SERVICE}`)) as {
        status?: { loadBalancer?: { ingress?: { ip: string }[] } };
      };
      return svc.status?.loadBalancer?.ingress?.[0] !== undefined ? svc : undefined;
    })) as { status: { loadBalancer: { ingress: { ip: string }[] } } };
    frontend = service.status.loadBalancer.ingress[0]!.ip;
    gatewayUrl = `http://127.0.0.1:${await project.hostPort('lb', 80)}`;
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it("gives the Gateway's LoadBalancer Service a public frontend", () => {
    expect(frontend).toMatch(/^172\.30\.0\.\d+$/);
  });

  it('routes a request with the route Host through the published lb port and a gateway pod in a node container to an echo pod', async () => {
    const answer = await until('the route served', () => echo(`${gatewayUrl}/api/hello`, { headers: { host: 'echo.example.com' } }), 20_000);
    expect(answer.pod).toMatch(/^echo-/);
    expect(answer.path).toBe('/api/hello');
    const pods = ((await project!.admin('/api/v1/namespaces/default/pods')) as unknown as { items: PodJson[] }).items;
    const gatewayPods = pods.filter((p) => p.metadata.name.startsWith(`${GATEWAY_SERVICE}-`));
    expect(gatewayPods).toHaveLength(1);
    const [gatewayPod] = gatewayPods;
    expect(gatewayPod!.metadata.annotations['aks-emu.io/gateway']).toBe('default/echo-gateway');
    // The gateway pod dials the echo pod from its own pod IP, on its node's pod network (10.244.N.0/24 on node N).
    expect(answer.remoteAddress).toBe(gatewayPod!.status.podIP);
    const node = Number(/vmss(\d+)$/.exec(gatewayPod!.spec.nodeName)?.[1]);
    expect(gatewayPod!.status.podIP).toMatch(new RegExp(`^10\\.244\\.${node}\\.\\d+$`));
  });

  it('answers 404 for a path and for a host no route matches', async () => {
    await until('the route served', () => echo(`${gatewayUrl}/api/again`, { headers: { host: 'echo.example.com' } }), 20_000);
    expect((await httpGet(`${gatewayUrl}/other`, { headers: { host: 'echo.example.com' } })).status).toBe(404);
    expect((await httpGet(`${gatewayUrl}/api/hello`, { headers: { host: 'other.example.com' } })).status).toBe(404);
  });

  it('shows the Gateway Programmed with its address through aks-emu get gateway --server', async () => {
    const lines: string[] = [];
    const code = await main(['get', 'gateway', '--server', project!.adminUrl], (line) => lines.push(line));
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(new RegExp(`echo-gateway\\s+approuting-istio\\s+${frontend.replace(/\./g, '\\.')}\\s+True\\s`));
  });
});
