import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { startCluster, type Cluster, type Snapshot } from '../../src/index.js';
import { isHandledKind } from '../../src/manifests/kind-table.js';
import { addressBlock } from '../helpers/addresses.js';
import { runCurl } from '../helpers/curl.js';

// examples/vote-demo as its README walks through it, on this file's own addresses: the
// Ingress host names embed the controller's frontend, so they are rewritten to this block's.
const EXAMPLE = resolve(import.meta.dirname, '../../examples/vote-demo');
const ranges = addressBlock(23);
const INGRESS_IP = ranges.publicFrontends.replace(/0\.0\/16$/, '0.1');
const VOTE = `vote.${INGRESS_IP}.nip.io`;
const API = `api.${INGRESS_IP}.nip.io`;

/** The policies compiled into a snapshot (the field exists where NetworkPolicy is enforced). */
function policyKeys(snapshot: Snapshot): string[] {
  const table = (snapshot as { networkPolicy?: { policies: readonly { key: string }[] } }).networkPolicy;
  return table?.policies.map((p) => p.key) ?? [];
}

function yamlOf(folder: string): string {
  const dir = join(EXAMPLE, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8').replaceAll('127.20.0.1', INGRESS_IP))
    .join('\n---\n');
}

describe('the vote demo (examples/vote-demo)', () => {
  let cluster: Cluster;
  const curl = (...args: string[]) => runCurl(cluster.adminUrl!, args);
  /** A JSON answer through `aks-emu curl`: exit code, HTTP status and body. */
  async function json(...args: string[]): Promise<{ code: number; status: number; body: Record<string, unknown> }> {
    const { code, text } = await curl('-i', ...args);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    const start = text.indexOf('\r\n\r\n');
    return { code, status, body: start < 0 ? {} : (JSON.parse(text.slice(start + 4)) as Record<string, unknown>) };
  }

  /** `kubectl apply -f policies/FILE`: each NetworkPolicy created through the Kubernetes API. */
  async function applyPolicies(file: string): Promise<void> {
    const text = readFileSync(join(EXAMPLE, 'policies', file), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const policy = doc.toJS() as { metadata: { namespace: string; name: string } };
      const res = await fetch(`${cluster.adminUrl}/apis/networking.k8s.io/v1/namespaces/${policy.metadata.namespace}/networkpolicies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(policy),
      });
      expect(res.status, await res.text()).toBe(201);
      const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
      // The data plane takes the policy with the next snapshot; the test goes on once it has.
      await cluster.waitFor((s) => policyKeys(s).includes(key), { what: `${key} in the snapshot` });
    }
  }

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: yamlOf('k8s'),
      configFile: join(EXAMPLE, 'aks-emu.yaml'),
      config: { addresses: ranges },
      timeScale: 0.1,
      waitTimeoutMs: 60_000,
    });
    expect(cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP).toBe(INGRESS_IP);
    // The LB sends to nodes its probes have found up: wait for every node on the controller's rules.
    await Promise.all(cluster.nodes.map((n) => cluster.waitForProbe(n.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' })));
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs the store as a StatefulSet with stable names, and api and frontend as Deployments, all as local processes', () => {
    const pods = cluster.pods({}, 'vote');
    expect(pods.filter((p) => p.labels.app === 'mongo').map((p) => p.name)).toEqual(['mongo-0', 'mongo-1']);
    expect(pods.filter((p) => p.labels.app === 'api')).toHaveLength(2);
    expect(pods.filter((p) => p.labels.app === 'frontend')).toHaveLength(2);
    for (const p of pods) expect(p).toMatchObject({ ready: true, runtime: { kind: 'process' } });
  });

  it('answers on the API host name: the API reads the counts from mongo-0 by its per-pod DNS name', async () => {
    const { code, status, body } = await json(`http://${API}/api/votes`);
    expect(code).toBe(0);
    expect(status).toBe(200);
    expect(body).toMatchObject({ choices: ['cats', 'dogs'], store: 'mongo-0' });
    expect(String(body.api)).toMatch(/^api-/);
    const bad = await json('-X', 'POST', `http://${API}/api/votes/birds`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'unknown choice "birds": one of cats, dogs' } });
  });

  it('takes votes on the frontend host name: frontend → api → mongo-0, and counts them', async () => {
    const before = await json(`http://${VOTE}/results`);
    expect(before.status).toBe(200);
    const cats = Number((before.body.votes as Record<string, number>).cats ?? 0);
    const vote = await curl('-i', '-d', 'choice=cats', `http://${VOTE}/vote`);
    expect(vote.code).toBe(0);
    expect(vote.text).toMatch(/^HTTP\/1\.1 303 /);
    const after = await json(`http://${VOTE}/results`);
    expect(after.body).toMatchObject({ store: 'mongo-0', votes: { cats: cats + 1 } });
    expect(String(after.body.frontend)).toMatch(/^frontend-/);
    const page = await curl(`http://${VOTE}/`);
    expect(page.text).toMatch(new RegExp(`<li>cats: ${cats + 1} `));
  });

  it('resolves the headless Service and each store pod by name, from a pod of the namespace', async () => {
    const api = cluster.pods({ app: 'api' }, 'vote')[0]!.name;
    for (const [host, pod] of [
      ['mongo-0.mongo', 'mongo-0'],
      ['mongo-1.mongo.vote', 'mongo-1'],
      ['mongo-1.mongo.vote.svc', 'mongo-1'],
      ['mongo-0.mongo.vote.svc.cluster.local', 'mongo-0'],
    ]) {
      const { code, body } = await json('--from', `pod/${api}`, '-n', 'vote', `http://${host}:27017/votes`);
      expect(code, host).toBe(0);
      expect(body.store, host).toBe(pod);
    }
    const either = await json('--from', `pod/${api}`, '-n', 'vote', 'http://mongo:27017/votes');
    expect(['mongo-0', 'mongo-1']).toContain(either.body.store);
  });

  // The steps of the README's section 4. They run where NetworkPolicy is enforced (a handled
  // kind); until then aks-emu skips the policies and these steps would test nothing.
  describe.skipIf(!isHandledKind('NetworkPolicy'))('NetworkPolicies applied step by step (policies/)', () => {
    const fromMongo1 = (url: string) => curl('--from', 'pod/mongo-1', '-n', 'vote', '-m', '1', url);

    it('00 default deny: both host names answer 504 from the ingress controller; pod to pod is dropped', async () => {
      await applyPolicies('00-default-deny.yaml');
      for (const url of [`http://${VOTE}/results`, `http://${API}/api/votes`]) {
        const { code, text } = await curl('-i', url);
        expect(code, url).toBe(0);
        expect(text, url).toMatch(/^HTTP\/1\.1 504 /);
        expect(text, url).toMatch(/nginx/);
      }
      expect((await fromMongo1('http://mongo-0.mongo:27017/votes')).code).toBe(28);
      // The probes come from each pod's own node, which a policy never blocks: every pod stays Ready.
      for (const p of cluster.pods({}, 'vote')) expect(p.ready, p.name).toBe(true);
    });

    it('10 ingress controller allowed: the API answers, but its call to the store is dropped (504 from the API)', async () => {
      await applyPolicies('10-allow-ingress-controller.yaml');
      const api = await json(`http://${API}/api/votes`);
      expect(api.status).toBe(504);
      expect(api.body).toMatchObject({ error: expect.stringMatching(/^store http:\/\/mongo-0\.mongo:27017: no answer/) });
      expect(String(api.body.api)).toMatch(/^api-/);
      const front = await json(`http://${VOTE}/results`);
      expect(front.status).toBe(504);
      expect(front.body).toMatchObject({ error: expect.stringMatching(/^api http:\/\/api: no answer/) });
    });

    it('20 frontend to api allowed: the frontend reaches the API, which still cannot reach the store', async () => {
      await applyPolicies('20-allow-frontend-to-api.yaml');
      const front = await json(`http://${VOTE}/results`);
      expect(front.status).toBe(504);
      expect(front.body).toMatchObject({ error: expect.stringMatching(/^store /) });
      expect(String(front.body.frontend)).toMatch(/^frontend-/);
      expect(String(front.body.api)).toMatch(/^api-/);
    });

    it('30 api to store allowed: every path of the app works again; the store still refuses other pods', async () => {
      await applyPolicies('30-allow-api-to-mongo.yaml');
      const front = await json(`http://${VOTE}/results`);
      expect(front.status).toBe(200);
      expect(front.body).toMatchObject({ store: 'mongo-0' });
      expect((await json('-X', 'POST', `http://${API}/api/votes/dogs`)).status).toBe(200);
      expect((await fromMongo1('http://mongo-0.mongo:27017/votes')).code).toBe(28);
    });

    it('40 api egress: an API pod may reach only the store; the app keeps working', async () => {
      await applyPolicies('40-api-egress.yaml');
      const api = cluster.pods({ app: 'api' }, 'vote')[0]!.name;
      expect((await curl('--from', `pod/${api}`, '-n', 'vote', '-m', '1', 'http://frontend/ok')).code).toBe(28);
      const front = await json(`http://${VOTE}/results`);
      expect(front.status).toBe(200);
    });
  });
});
