/**
 * One fault of each kind, seen from a real client through the emulated path, plus the
 * API's and the CLI's answers to bad input.
 */
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo } from '../helpers/net.js';
import { FAULT_MANIFESTS, getWith, outcome } from '../helpers/fault-cluster.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('faults at every hop', () => {
  let cluster: Cluster;
  let url: string;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: FAULT_MANIFESTS, config: { addresses: addressBlock(11) }, timeScale: 1 / 20, seed: 3 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod Ready' });
    for (const node of cluster.nodes) await cluster.waitForPool(node.name, true, { service: 'web' });
    url = cluster.service('web').url();
  });
  afterAll(() => cluster?.stop());

  it('reset with fraction 1 resets every new connection, and traffic flows again once it is removed', async () => {
    const fault = await cluster.addFault({ type: 'reset', target: 'service/default/web', params: { fraction: 1 } });
    expect(fault).toMatchObject({ type: 'reset', target: 'service/default/web', params: { fraction: 1 }, fired: 0 });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await outcome(url));
    expect(outcomes.every((o) => o === 'ECONNRESET')).toBe(true);
    const web = cluster.service('web');
    expect(await outcome(`http://${cluster.nodes[0]!.address}:${web.nodePort(80)}/`)).toBe('ECONNRESET');
    expect(cluster.faults()[0]!.fired).toBe(6);
    await cluster.removeFault(fault.id);
    expect(await outcome(url)).toBe('200');
  });

  it('drain keeps an established connection while new ones go to the other nodes', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = JSON.parse((await getWith(agent, url)).body) as { remoteAddress: string };
      const node = cluster.nodes.find((n) => n.address === first.remoteAddress)!;
      expect(node).toBeDefined();
      const fault = await cluster.addFault({ type: 'drain', target: `node/${node.name}` });
      await cluster.waitForPool(node.name, false, { service: 'web' });
      const again = await getWith(agent, url);
      expect(again.status).toBe(200);
      expect((JSON.parse(again.body) as { remoteAddress: string }).remoteAddress).toBe(node.address);
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await echo(url)).remoteAddress);
      expect(seen.has(node.address)).toBe(false);
      expect(seen.size).toBe(2);
      await cluster.removeFault(fault.id);
      await cluster.waitForPool(node.name, true, { service: 'web' });
    } finally {
      agent.destroy();
    }
  });

  it('fail-probes takes a node out of the pool while its NodePort still answers', async () => {
    const node = cluster.nodes[1]!;
    const fault = await cluster.addFault({ type: 'fail-probes', target: `node/${node.name}` });
    await cluster.waitForPool(node.name, false, { service: 'web' });
    expect(cluster.faults().find((f) => f.id === fault.id)!.fired).toBeGreaterThan(0);
    const direct = await echo(`http://${node.address}:${cluster.service('web').nodePort(80)}/`);
    expect(direct.pod).toMatch(/^web-/);
    await cluster.removeFault(fault.id);
    await cluster.waitForPool(node.name, true, { service: 'web' });
  });

  it('a node stop fault stops the node until it is removed', async () => {
    const node = cluster.nodes[2]!;
    const fault = await cluster.addFault({ type: 'stop', target: `node/${node.name}`, for: '10m' });
    expect(fault.expiresAt).toBeDefined();
    expect(cluster.snapshot.nodes.find((n) => n.name === node.name)!.running).toBe(false);
    await cluster.removeFault(fault.id);
    expect(cluster.snapshot.nodes.find((n) => n.name === node.name)!.running).toBe(true);
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'every pod Ready again' });
    for (const n of cluster.nodes) await cluster.waitForPool(n.name, true, { service: 'web' });
  });

  it('an unready pod leaves the endpoints, and comes back when the fault expires', async () => {
    const pod = cluster.pods({ app: 'web' })[0]!;
    await cluster.addFault({ type: 'unready', target: `pod/default/${pod.name}`, for: '300ms' });
    await cluster.waitForEndpoints('web', 2);
    await cluster.waitForEndpoints('web', 3);
    expect(cluster.faults()).toEqual([]);
  });

  it('status 503 for the first 2 requests lets a retrying client succeed on try 3', async () => {
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const fault = await cluster.addFault({ type: 'status', target: 'ingress/default/web', params: { code: 503, first: 2, path: '/' } });
    const statuses: string[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const status = await outcome(`http://${ingressIP}/`, { host: 'web.example.com' });
      statuses.push(status);
      if (status === '200') break;
    }
    expect(statuses).toEqual(['503', '503', '200']);
    expect((await cluster.waitForFault(fault.id, 2)).fired).toBe(2);
    await cluster.removeFault(fault.id);
  });

  it('blackhole accepts a connection and never answers it', async () => {
    const fault = await cluster.addFault({ type: 'blackhole', target: 'frontend/default/web', params: { port: 9000 } });
    const socket: Socket = connect({ host: cluster.service('web').loadBalancerIP!, port: 9000 });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve('closed')));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('hello');
    await cluster.waitForFault(fault.id, 1);
    // The port 80 rule is not faulted: a request there is answered while port 9000 stays silent.
    expect(await outcome(url)).toBe('200');
    expect(received).toBe(0);
    await cluster.removeFault(fault.id);
    socket.destroy();
    expect(await closed).toBe('closed');
  });

  it('refuses bad faults with a 422 Status naming the field and keeps what it had', async () => {
    const kept = await cluster.addFault({ type: 'latency', target: 'service/default/web', params: { delay: '1ms', port: 'tcp-echo' } });
    const post = async (body: unknown) => {
      const res = await fetch(`${cluster.adminUrl}/aks-emu/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { code: res.status, status: (await res.json()) as { reason: string; message: string; details?: { causes?: { field: string }[] } } };
    };
    const unknown = await post({ type: 'reset', target: 'service/default/nope' });
    expect(unknown.code).toBe(422);
    expect(unknown.status.details?.causes?.map((c) => c.field)).toEqual(['target']);
    expect(unknown.status.message).toContain('services "nope" not found');
    const range = await post({ type: 'reset', target: 'service/default/web', params: { fraction: 2 } });
    expect(range.code).toBe(422);
    expect(range.status.message).toContain('params.fraction: Invalid value: 2');
    const wrongKind = await post({ type: 'drain', target: 'service/default/web' });
    expect(wrongKind.status.details?.causes?.map((c) => c.field)).toEqual(['type']);
    const unknownParam = await post({ type: 'reset', target: 'service/default/web', params: { delay: '1s' } });
    expect(unknownParam.status.message).toContain('unknown field "params.delay"');
    const badPort = await post({ type: 'reset', target: 'service/default/web', params: { port: 81 } });
    expect(badPort.status.details?.causes?.map((c) => c.field)).toEqual(['params.port']);
    const badFor = await post({ type: 'reset', target: 'service/default/web', for: 'soon' });
    expect(badFor.status.details?.causes?.map((c) => c.field)).toEqual(['for']);
    const notJson = await fetch(`${cluster.adminUrl}/aks-emu/v1/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    const one = (await (await fetch(`${cluster.adminUrl}/aks-emu/v1/faults/${kept.id}`)).json()) as { id: string; params: Record<string, unknown> };
    expect(one).toMatchObject({ id: kept.id, params: { delay: '1ms', port: 'tcp-echo', direction: 'downstream', fraction: 1 } });
    const gone = await fetch(`${cluster.adminUrl}/aks-emu/v1/faults/fault-999`, { method: 'DELETE' });
    expect(gone.status).toBe(404);
    const list = (await (await fetch(`${cluster.adminUrl}/aks-emu/v1/faults`)).json()) as { kind: string; items: { id: string }[] };
    expect(list.kind).toBe('FaultList');
    expect(list.items.map((f) => f.id)).toEqual([kept.id]);
    expect(await outcome(url)).toBe('200');
    const cleared = (await (await fetch(`${cluster.adminUrl}/aks-emu/v1/faults`, { method: 'DELETE' })).json()) as { items: { id: string }[] };
    expect(cleared.items.map((f) => f.id)).toEqual([kept.id]);
  });

  it('aks-emu fault add, list and rm drive the same API, naming the flag on bad input', async () => {
    const server = cluster.adminUrl!;
    const added = await cli(['fault', 'add', 'reset', '--target', 'service/default/web', '--fraction', '1', '--port', 'tcp-echo', '--server', server]);
    expect(added.code).toBe(0);
    const id = /fault (fault-\d+) added/.exec(added.out)![1]!;
    const listed = await cli(['fault', 'list', '--server', server]);
    expect(listed.out).toMatch(new RegExp(`${id}\\s+reset\\s+service/default/web\\s+fraction=1,port=tcp-echo\\s+0`));
    const json = JSON.parse((await cli(['fault', 'list', '-o', 'json', '--server', server])).out) as { items: { id: string }[] };
    expect(json.items.map((f) => f.id)).toEqual([id]);
    const bad = await cli(['fault', 'add', 'latency', '--target', 'service/default/web', '--delay', 'slowly', '--server', server]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--delay: Invalid value: "slowly"');
    const unknownFlag = await cli(['fault', 'add', 'reset', '--target', 'service/default/web', '--fractoin', '1', '--server', server]);
    expect(unknownFlag.code).toBe(1);
    expect(unknownFlag.err).toContain('unknown flag: --fractoin');
    expect((await cli(['fault', 'rm', id, '--server', server])).code).toBe(0);
    expect((await cli(['fault', 'list', '--server', server])).out).toBe('No faults.');
    expect((await cli(['fault', 'rm', '--all', '--server', server])).out).toBe('0 faults removed');
    const timed = await cli(['fault', 'add', 'drain', '--target', `no/${cluster.nodes[0]!.name}`, '--for', '1m', '--server', server]);
    expect(timed.out).toMatch(new RegExp(`added: drain on node/${cluster.nodes[0]!.name} until \\d{4}-`));
    expect((await cli(['fault', 'list', '--server', server])).out).toMatch(/drain .* in (59|60)s/);
    expect((await cli(['fault', 'rm', '--all', '--server', server])).out).toBe('1 fault removed');
    await cluster.waitForPool(cluster.nodes[0]!.name, true, { service: 'web' });
    expect((await cli(['fault', 'rm', 'fault-1', '--all', '--server', server])).code).toBe(1);
    expect((await cli(['fault', 'explode', '--server', server])).err).toContain('unknown action "explode"');
  });

  it('counts which pod got each connection, so a test can assert an even spread', async () => {
    const before = cluster.distribution('web', { port: 'http' });
    for (let i = 0; i < 60; i++) await echo(url);
    const spread = cluster.distribution('web', { port: 'http', since: before });
    expect(spread.total).toBe(60);
    expect(Object.keys(spread.counts).sort()).toEqual(
      cluster
        .pods({ app: 'web' })
        .map((p) => `default/${p.name}`)
        .sort(),
    );
    expect(spread.evenWithin(0.05)).toBe(true);
    // One pod out: the other two share the next connections.
    const pod = cluster.pods({ app: 'web' })[0]!;
    const unready = await cluster.addFault({ type: 'unready', target: `pod/default/${pod.name}` });
    await cluster.waitForEndpoints('web', 2);
    const mark = cluster.distribution('web', { port: 'http' });
    for (let i = 0; i < 20; i++) await echo(url);
    const two = cluster.distribution('web', { port: 'http', since: mark });
    expect(two.counts[`default/${pod.name}`]).toBeUndefined();
    expect(two.evenWithin(0.05)).toBe(true);
    await cluster.removeFault(unready.id);
    await cluster.waitForEndpoints('web', 3);
  });

  it('forgets every fault at stop', async () => {
    await cluster.addFault({ type: 'reset', target: 'service/default/web' });
    await cluster.stop();
    expect(cluster.faults()).toEqual([]);
  });
});
