/**
 * Faults, /metrics and traces of the container runtime as a user meets them: `aks-emu
 * fault add|list|rm --server` against control's published admin port, a real client on
 * the host through the lb container's published port, and control's /metrics and `aks-emu
 * trace`, which gather what the lb and node containers keep.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { main } from '../../src/cli/main.js';
import { parseExposition, total } from '../helpers/exposition.js';
import { echo, httpGet } from '../helpers/net.js';
import { startComposeProject, until, type ComposeProject } from './compose-project.js';
import { describeWithDocker } from './docker-available.js';

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

/** The echo pod's answer, or the client's error code (ECONNRESET for a reset). */
const outcome = (url: string): Promise<string> =>
  echo(url).then(
    (a) => a.pod,
    (err: NodeJS.ErrnoException) => err.code ?? 'error',
  );

describeWithDocker('faults, /metrics and traces in the compose deployment', () => {
  let project: ComposeProject | undefined;
  let web: string;
  let metricsBefore: number;

  const metrics = async () => {
    const res = await fetch(`${project!.adminUrl}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(await res.text()).samples;
  };

  beforeAll(async () => {
    // Every pod is a built-in echo pod: no pod image is needed.
    project = await startComposeProject({ manifests: './test/container/fixtures/manifests', containerImages: '', projectPrefix: 'aks-emu-test-faults' });
    web = `http://127.0.0.1:${await project.hostPort('lb', 80)}/`;
    await until('web served through the lb', async () => (await outcome(web)).startsWith('web-') || undefined, 60_000);
  }, 600_000);

  afterAll(async () => {
    await project?.down();
  }, 120_000);

  it('federates control, lb and every node in /metrics, which parses, and whose counters move with traffic', async () => {
    const before = await metrics();
    const up = before.filter((s) => s.name === 'aks_emu_federate_up');
    expect(up.map((s) => `${s.labels.job}/${s.labels.instance}`).sort()).toEqual([
      'control/control',
      'lb/lb',
      'node/aks-nodepool1-12345678-vmss000000',
      'node/aks-nodepool1-12345678-vmss000001',
      'node/aks-nodepool1-12345678-vmss000002',
    ]);
    expect(up.every((s) => s.value === 1)).toBe(true);
    metricsBefore = total(before, 'aks_emu_kube_proxy_connections_total', { job: 'node', service: 'web' });
    for (let i = 0; i < 4; i++) expect(await outcome(web)).toMatch(/^web-/);
    const after = await metrics();
    expect(total(after, 'aks_emu_kube_proxy_connections_total', { job: 'node', service: 'web' })).toBeGreaterThanOrEqual(metricsBefore + 4);
    expect(total(after, 'aks_emu_lb_connections_total', { job: 'lb' })).toBeGreaterThanOrEqual(4);
  });

  it('a reset fault on the Service added with aks-emu fault add resets a real client until aks-emu fault rm', async () => {
    const server = ['--server', project!.adminUrl];
    const added = await cli(['fault', 'add', 'reset', '--target', 'service/default/web', '--fraction', '1', ...server]);
    expect(added).toMatchObject({ code: 0 });
    const id = /fault (fault-\d+) added/.exec(added.out)?.[1];
    expect(id).toBeDefined();
    await until('a reset through the node containers', async () => (await outcome(web)) === 'ECONNRESET' || undefined, 20_000);
    expect(await outcome(web)).toBe('ECONNRESET');
    // The nodes report what the fault did: its fired count in the list and in /metrics.
    await until('fired in the fault list', async () => {
      const listed = ((await project!.admin('/aks-emu/v1/faults')) as { items: { id: string; fired: number }[] }).items;
      return (listed.find((f) => f.id === id)?.fired ?? 0) >= 2 || undefined;
    });
    const list = await cli(['fault', 'list', ...server]);
    expect(list.out).toMatch(new RegExp(`${id}\\s+reset\\s+service/default/web`));
    expect(total(await metrics(), 'aks_emu_fault_fired_total', { id: id!, job: 'control' })).toBeGreaterThanOrEqual(2);
    expect(await cli(['fault', 'rm', id!, ...server])).toMatchObject({ code: 0 });
    await until('web served again', async () => (await outcome(web)).startsWith('web-') || undefined, 20_000);
    expect(((await project!.admin('/aks-emu/v1/faults')) as { items: unknown[] }).items).toEqual([]);
  });

  it('a status fault on an Ingress answers from the ingress controller pods in the node containers, counted in /metrics and traced per request', async () => {
    const ingress = `http://127.0.0.1:${await project!.hostPort('lb', 8081)}/through-ingress`;
    await until('the ingress controller ready', async () => (await httpGet(ingress)).status === 200 || undefined, 60_000);
    const res = await fetch(`${project!.adminUrl}/aks-emu/v1/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'status', target: 'ingress/default/web', params: { code: 503 } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await until('503 from the controller', async () => (await httpGet(ingress)).status === 503 || undefined, 20_000);
    const samples = await metrics();
    expect(total(samples, 'aks_emu_http_requests_total', { job: 'node', route: 'web', status: '503' })).toBeGreaterThanOrEqual(1);
    const traced = await cli(['trace', '--kind', 'http', '--last', '50', '-o', 'json', '--server', project!.adminUrl]);
    const http = traced.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { instance: string; status: number; faults?: string[] });
    expect(http.some((t) => t.status === 503 && /^aks-nodepool1-/.test(t.instance))).toBe(true);
    expect((await fetch(`${project!.adminUrl}/aks-emu/v1/faults/${id}`, { method: 'DELETE' })).status).toBe(200);
    await until('200 again', async () => (await httpGet(ingress)).status === 200 || undefined, 20_000);
  });

  it('refuses a fault the container runtime cannot do with a 4xx naming the type', async () => {
    const pods = ((await project!.admin('/api/v1/namespaces/default/pods')) as { items: { metadata: { name: string } }[] }).items;
    const pod = pods.find((p) => p.metadata.name.startsWith('web-'))!.metadata.name;
    const res = await fetch(`${project!.adminUrl}/aks-emu/v1/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'crash', target: `pod/default/${pod}` }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toContain('fault type crash');
  });

  it('aks-emu trace --server lists the traces the node containers kept', async () => {
    expect(await outcome(web)).toMatch(/^web-/);
    const traced = await cli(['trace', '--service', 'default/web', '--last', '5', '-o', 'json', '--server', project!.adminUrl]);
    expect(traced.code).toBe(0);
    const items = traced.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { instance: string; service: string });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((t) => t.service === 'default/web' && /^aks-nodepool1-/.test(t.instance))).toBe(true);
  });
});
