import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { runCurl } from '../helpers/curl.js';
import { explainFlow } from '../../src/cluster/netpol/explain-flow.js';

// examples/vote-demo's NetworkPolicy walk-through (its README, section 4), step by step on
// this file's own addresses: each step applies one more file of policies/ and asserts
// which paths answer, which time out and who answers 504.
const EXAMPLE = resolve(import.meta.dirname, '../../examples/vote-demo');
const ranges = addressBlock(22);
const INGRESS_IP = ranges.publicFrontends.replace(/0\.0\/16$/, '0.1');
const VOTE = `http://vote.${INGRESS_IP}.nip.io/results`;
const API = `http://api.${INGRESS_IP}.nip.io/api/votes`;

const files = (folder: string): string[] =>
  readdirSync(join(EXAMPLE, folder))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(folder, f));
const yaml = (paths: readonly string[]): string =>
  paths.map((p) => readFileSync(join(EXAMPLE, p), 'utf8').replaceAll('127.20.0.1', INGRESS_IP)).join('\n---\n');
const APP = files('k8s');
const POLICIES = files('policies');

describe('the vote demo with its NetworkPolicies, step by step', () => {
  let cluster: Cluster;

  /** `aks-emu curl -i`: who answered (ingress-nginx's HTML page, or the app's JSON) and with what. */
  async function get(url: string, ...args: string[]): Promise<{ code: number; status: number; from: 'nginx' | 'app' | 'none'; text: string }> {
    const { code, text } = await runCurl(cluster.adminUrl!, ['-i', ...args, url]);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    const from = status === 0 ? 'none' : /^server: nginx/im.test(text) && text.includes('<html>') ? 'nginx' : 'app';
    return { code, status, from, text };
  }

  async function applySteps(n: number): Promise<void> {
    await cluster.apply({ manifests: yaml([...APP, ...POLICIES.slice(0, n)]) });
    const want = POLICIES.slice(0, n).reduce((count, p) => count + (readFileSync(join(EXAMPLE, p), 'utf8').match(/^kind: NetworkPolicy$/gm) ?? []).length, 0);
    await cluster.waitFor((s) => (s.networkPolicy?.policies.length ?? 0) === want, { what: `${want} policies in the snapshot` });
  }

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: yaml(APP),
      configFile: join(EXAMPLE, 'aks-emu.yaml'),
      config: { addresses: ranges },
      timeScale: 0.1,
      waitTimeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers on both host names before any policy', async () => {
    expect(await get(API)).toMatchObject({ status: 200, from: 'app' });
    expect(await get(VOTE)).toMatchObject({ status: 200, from: 'app' });
  });

  it('00 default deny: ingress-nginx answers 504 for both, its connects to the pods dropped', async () => {
    await applySteps(1);
    expect(await get(API)).toMatchObject({ status: 504, from: 'nginx' });
    expect(await get(VOTE)).toMatchObject({ status: 504, from: 'nginx' });
  }, 60_000);

  it('10 the ingress controller may reach frontend and api: now the frontend times out on the api, the api on the store', async () => {
    await applySteps(2);
    const api = await get(API);
    expect(api).toMatchObject({ status: 504, from: 'app' });
    expect(api.text).toContain('mongo-0.mongo');
    const vote = await get(VOTE);
    expect(vote).toMatchObject({ status: 504, from: 'app' });
    expect(vote.text).toContain('api http://api');
  }, 60_000);

  it('20 frontend → api allowed: the frontend reaches the api, which still cannot reach the store', async () => {
    await applySteps(3);
    const vote = await get(VOTE);
    expect(vote).toMatchObject({ status: 504, from: 'app' });
    expect(vote.text).toContain('mongo-0.mongo');
  }, 60_000);

  it('30 api → mongo allowed: every path answers again', async () => {
    await applySteps(4);
    expect(await get(API)).toMatchObject({ status: 200, from: 'app' });
    expect(await get(VOTE)).toMatchObject({ status: 200, from: 'app' });
  }, 60_000);

  it('40 api egress: the api still reaches the store, but a connection from an api pod to the frontend is dropped at its source', async () => {
    await applySteps(5);
    expect(await get(API)).toMatchObject({ status: 200, from: 'app' });
    const apiPod = cluster.pods({ app: 'api' }, 'vote')[0]!;
    const frontendPod = cluster.pods({ app: 'frontend' }, 'vote')[0]!;
    expect((await get('http://mongo-0.mongo:27017/votes', '--from', `pod/${apiPod.name}`, '-n', 'vote', '-m', '5')).status).toBe(200);
    const port = frontendPod.containers[0]!.ports[0]!.containerPort;
    const toFrontend = await get(`http://${frontendPod.ip}:${port}/results`, '--from', `pod/${apiPod.name}`, '-n', 'vote', '-m', '1');
    expect(toFrontend).toMatchObject({ code: 28, from: 'none' });
    // Egress is what drops it: the api's own policy, before the frontend's ingress is asked.
    const why = explainFlow(cluster.snapshot, { from: `pod/${apiPod.name}`, to: `pod/${frontendPod.name}`, port: String(port), namespace: 'vote' });
    expect(why.flows[0]!.decision).toMatchObject({ verdict: 'drop', direction: 'Egress', policies: ['vote/api-egress'] });
  }, 60_000);
});
