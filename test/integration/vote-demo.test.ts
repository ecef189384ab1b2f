import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { runCurl } from '../helpers/curl.js';

// examples/vote-demo as its README walks through it, on this file's own addresses: the
// Ingress host names embed the controller's frontend, so they are rewritten to this block's.
const EXAMPLE = resolve(import.meta.dirname, '../../examples/vote-demo');
const ranges = addressBlock(23);
const INGRESS_IP = ranges.publicFrontends.replace(/0\.0\/16$/, '0.1');
const VOTE = `vote.${INGRESS_IP}.nip.io`;
const API = `api.${INGRESS_IP}.nip.io`;

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

  beforeAll(async () => {
    cluster = await startCluster({
      manifests: yamlOf('k8s'),
      configFile: join(EXAMPLE, 'aks-emu.yaml'),
      config: { addresses: ranges },
      timeScale: 0.1,
      waitTimeoutMs: 60_000,
    });
    expect(cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP).toBe(INGRESS_IP);
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
});
