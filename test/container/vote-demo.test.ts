import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { httpGet } from '../helpers/net.js';
import { REPO_ROOT } from './app-image.js';
import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { describeWithDocker, docker, LOCAL_BASE_IMAGE } from './docker-available.js';

/**
 * examples/vote-demo in the container runtime: its three images built from
 * examples/vote-demo/app/Dockerfile run as real containers. NetworkPolicies come only from
 * the manifests at start, so each policy state is a project of its own.
 */
const DEMO = join(REPO_ROOT, 'examples/vote-demo');
const APPS = ['store', 'api', 'frontend'] as const;
const API_HOST = 'api.127.20.0.1.nip.io';
const VOTE_HOST = 'vote.127.20.0.1.nip.io';

interface PodList {
  items: { metadata: { name: string; annotations?: Record<string, string> }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
}

async function buildDemoImages(): Promise<void> {
  for (const app of APPS)
    await docker(['build', '-q', '--target', app, '--build-arg', `BASE=${LOCAL_BASE_IMAGE}`, '-t', `vote-demo/${app}:1.0`, join(DEMO, 'app')], 120_000);
}

/** A manifests folder for one start: the demo's k8s/ files and the named policy files. */
function manifestsWith(policies: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'votectr-manifests-'));
  for (const file of readdirSync(join(DEMO, 'k8s'))) cpSync(join(DEMO, 'k8s', file), join(dir, file));
  for (const file of policies) cpSync(join(DEMO, 'policies', file), join(dir, `50-${file}`));
  return dir;
}

/** Starts the demo with these policies; resolves once every pod of `vote` is Ready and the ingress controller answers. */
async function startDemo(
  policies: readonly string[],
): Promise<{ project: ComposeProject; dir: string; viaIngress: (host: string, path: string, method?: string) => ReturnType<typeof httpGet> }> {
  const dir = manifestsWith(policies);
  let project: ComposeProject;
  try {
    project = await startComposeProject({ manifests: dir, containerImages: 'vote-demo/*', projectPrefix: 'aks-emu-test-votectr' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const ingressUrl = `http://127.0.0.1:${await project.hostPort('lb', 8081)}`;
  const viaIngress = (host: string, path: string, method = 'GET') => httpGet(`${ingressUrl}${path}`, { headers: { host }, method, timeoutMs: 15_000 });
  await until(
    'the six pods of vote Ready',
    async () => {
      const pods = (await project.admin('/api/v1/namespaces/vote/pods')) as unknown as PodList;
      return pods.items.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 6;
    },
    180_000,
  );
  // The ingress controller (in the node containers) answers for a host it has no rule for once it serves.
  await until('the ingress controller serving', async () => (await viaIngress('nosuch.example', '/')).status === 404, 60_000);
  return { project, dir, viaIngress };
}

type Demo = Awaited<ReturnType<typeof startDemo>>;

/** In the calling describe: the demo started with these policies before its tests, and down after them. */
function demoWith(policies: readonly string[], onStart?: (demo: Demo) => Promise<void>): () => Demo {
  let demo: Demo | undefined;
  beforeAll(async () => {
    demo = await startDemo(policies);
    await onStart?.(demo);
  }, 600_000);
  afterAll(async () => {
    await demo?.project.down();
    if (demo) rmSync(demo.dir, { recursive: true, force: true });
  }, 120_000);
  return () => demo!;
}

describeWithDocker('examples/vote-demo in the container runtime', () => {
  beforeAll(async () => {
    await buildDemoImages();
  }, 300_000);

  afterAll(async () => {
    await docker(['rmi', ...APPS.map((app) => `vote-demo/${app}:1.0`)]).catch((err: Error) => console.warn(`removing the demo images: ${err.message}`));
  }, 60_000);

  describe('with every allow rule (00 to 40)', () => {
    const podIPs = new Map<string, string>();
    const demo = demoWith(readdirSync(join(DEMO, 'policies')).sort(), async (started) => {
      const pods = (await started.project.admin('/api/v1/namespaces/vote/pods')) as unknown as PodList;
      for (const p of pods.items) podIPs.set(p.metadata.name, p.status.podIP!);
    });

    it('runs every pod of the demo as a real container of its image', async () => {
      const pods = (await demo().project.admin('/api/v1/namespaces/vote/pods')) as unknown as PodList;
      expect(pods.items.map((p) => p.metadata.annotations?.['aks-emu.io/pod-kind'])).toEqual(Array(6).fill('container'));
      const images = await docker(['ps', '--filter', 'label=io.aks-emu.container', '--format', '{{.Image}}']);
      const mine = images.split('\n').filter((i) => i.startsWith('vote-demo/'));
      expect(mine.sort()).toEqual([
        'vote-demo/api:1.0',
        'vote-demo/api:1.0',
        'vote-demo/frontend:1.0',
        'vote-demo/frontend:1.0',
        'vote-demo/store:1.0',
        'vote-demo/store:1.0',
      ]);
    });

    it('answers on the API host name: the API reads the counts from mongo-0 by its per-pod DNS name', async () => {
      const res = await demo().viaIngress(API_HOST, '/api/votes');
      expect(res.status, res.body).toBe(200);
      const body = JSON.parse(res.body) as Record<string, unknown>;
      expect(body).toMatchObject({ choices: ['cats', 'dogs'], store: 'mongo-0' });
      expect(String(body.api)).toMatch(/^api-/);
    });

    it('takes a vote on the API host name and shows it on the frontend host name (frontend → api → mongo-0)', async () => {
      const vote = await demo().viaIngress(API_HOST, '/api/votes/cats', 'POST');
      expect(vote.status, vote.body).toBe(200);
      const results = await demo().viaIngress(VOTE_HOST, '/results');
      expect(results.status, results.body).toBe(200);
      const body = JSON.parse(results.body) as Record<string, unknown>;
      expect(body).toMatchObject({ store: 'mongo-0', votes: { cats: 1 } });
      expect(String(body.frontend)).toMatch(/^frontend-/);
      const page = await demo().viaIngress(VOTE_HOST, '/');
      expect(page.status).toBe(200);
      expect(page.body).toMatch(/<li>cats: 1 /);
    });

    it('resolves each store pod by its headless per-pod name in the cluster DNS', async () => {
      const script = [
        'nslookup mongo-0.mongo.vote.svc.cluster.local',
        'echo ---',
        'nslookup mongo-1.mongo.vote.svc.cluster.local',
        'echo ---',
        'nslookup mongo-7.mongo.vote.svc.cluster.local 2>&1; true',
      ].join('; ');
      const [first, second, missing] = (await demo().project.compose(['run', '--rm', 'toolbox', 'sh', '-c', script])).split('---\n');
      expect(first).toContain(`Address: ${podIPs.get('mongo-0')}`);
      expect(first).not.toContain(`Address: ${podIPs.get('mongo-1')}`);
      expect(second).toContain(`Address: ${podIPs.get('mongo-1')}`);
      expect(missing).toContain('NXDOMAIN');
    });
  });

  describe('with the default deny only', () => {
    const demo = demoWith(['00-default-deny.yaml']);

    it('answers 504 from the ingress controller on both host names: the frontend and the API are unreachable', async () => {
      const snapshot = (await demo().project.admin('/aks-emu/v1/snapshot')) as { networkPolicy?: { policies: { key: string }[] } };
      expect(snapshot.networkPolicy?.policies.map((p) => p.key)).toEqual(['vote/default-deny-ingress']);
      for (const [host, path] of [
        [API_HOST, '/api/votes'],
        [VOTE_HOST, '/results'],
      ] as const) {
        const res = await demo().viaIngress(host, path);
        expect(res.status, `${host}${path}`).toBe(504);
        expect(res.body, `${host}${path}`).toMatch(/nginx/);
      }
    });
  });

  describe('with the default deny and the ingress controller allowed (00, 10)', () => {
    const demo = demoWith(['00-default-deny.yaml', '10-allow-ingress-controller.yaml']);

    it('lets the ingress controller reach the API, which answers 504 itself (its direct call to mongo-0 is dropped), and the frontend too (its ClusterIP call to the API is dropped)', async () => {
      const api = await demo().viaIngress(API_HOST, '/api/votes');
      // mongo-0.mongo is the store pod's IP: the store's sandbox drops the API's SYN (nftables), as in the embedded runtime.
      expect(api.status, api.body).toBe(504);
      expect((JSON.parse(api.body) as Record<string, unknown>).error).toMatch(/^store http:\/\/mongo-0\.mongo:27017: no answer/);
      const front = await demo().viaIngress(VOTE_HOST, '/results');
      expect(front.status, front.body).toBe(504);
      const body = JSON.parse(front.body) as Record<string, unknown>;
      expect(body.error).toMatch(/^api http:\/\/api: no answer/);
      expect(String(body.frontend)).toMatch(/^frontend-/);
    });
  });
});
