import { afterAll, beforeAll, expect, it } from 'vitest';

import { startComposeProject, until, type ComposeProject, type Json } from './compose-project.js';
import { describeWithDocker } from './docker-available.js';

interface PodList {
  items: { metadata: { name: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
}

describeWithDocker("per-pod DNS of a headless Service in the container runtime's cluster DNS", () => {
  let project: ComposeProject | undefined;
  const podIPs = new Map<string, string>();

  /** One `compose run` of the toolbox (namespace default's search list), as a shell script. */
  const toolbox = (script: string): Promise<string> => project!.compose(['run', '--rm', 'toolbox', 'sh', '-c', script]);

  beforeAll(async () => {
    project = await startComposeProject({
      manifests: './test/container/fixtures/statefulset-dns',
      containerImages: 'aks-emu-test/*',
      projectPrefix: 'aks-emu-test-wlkdns',
    });
    await until(
      'mongo-0, mongo-1 and the client ready',
      async () => {
        const pods = (await project!.admin('/api/v1/namespaces/vote/pods')) as unknown as PodList;
        const ready = pods.items.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        if (ready.length < 3) return undefined;
        for (const p of ready) podIPs.set(p.metadata.name, p.status.podIP!);
        return true;
      },
      120_000,
    );
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('answers each StatefulSet pod by name in every form a client outside the namespace uses', async () => {
    const script = [
      'nslookup mongo-0.mongo.vote.svc.cluster.local',
      'echo ---',
      'nslookup mongo-1.mongo.vote.svc.cluster.local',
      'echo ---',
      ...['mongo-0.mongo.vote', 'mongo-1.mongo.vote.svc'].map((name) => `timeout 5 wget -qO- http://${name}:8080/; echo`),
      'echo ---',
      'nslookup mongo-7.mongo.vote.svc.cluster.local 2>&1; true',
    ].join('; ');
    const [first, second, answers, missing] = (await toolbox(script)).split('---\n');
    expect(first).toContain(`Address: ${podIPs.get('mongo-0')}`);
    expect(first).not.toContain(podIPs.get('mongo-1'));
    expect(second).toContain(`Address: ${podIPs.get('mongo-1')}`);
    expect(
      answers!
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as Json).pod),
    ).toEqual(['mongo-0', 'mongo-1']);
    expect(missing).toContain('NXDOMAIN');
  });

  it('lets a container of the namespace call mongo-0.mongo through its resolv.conf search list', async () => {
    const [client] = [...podIPs].find(([name]) => name.startsWith('client-')) ?? [];
    const reply = JSON.parse(await toolbox(`timeout 10 wget -qO- 'http://${podIPs.get(client!)}:8080/call?url=http://mongo-0.mongo:8080/from-client'`)) as {
      status: number;
      body: Json;
    };
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ pod: 'mongo-0', path: '/from-client' });
  });
});
