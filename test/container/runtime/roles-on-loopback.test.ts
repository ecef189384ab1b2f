import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildConfig } from '../../../src/config/load.js';
import { loadManifests } from '../../../src/manifests/index.js';
import { ContainerControlPlane } from '../../../src/runtime/container/control-plane.js';
import { startControlServer, type ControlServer } from '../../../src/runtime/container/control-server.js';
import { LoadBalancerRole, probeSourceAddress } from '../../../src/runtime/container/lb-role.js';
import { LoopbackNetwork } from '../../../src/runtime/container/net-setup.js';
import { NodeRole } from '../../../src/runtime/container/node-role.js';
import { addressBlock } from '../../helpers/addresses.js';
import { parseExposition, total } from '../../helpers/exposition.js';
import { connectOutcome, echo } from '../../helpers/net.js';

const manifestsDir = fileURLToPath(new URL('../fixtures/manifests', import.meta.url));
const addresses = addressBlock(27);

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Roles {
  readonly control: ContainerControlPlane;
  readonly server: ControlServer;
  readonly node: NodeRole;
  readonly lb: LoadBalancerRole;
}

const nodeAddress = (i: number) => addresses.nodeSubnet.replace(/0\.0\/16$/, `0.${4 + i}`);

/** Control, the first node of three and the lb, on this file's addresses. */
async function startRoles(observePort?: number): Promise<Roles> {
  const config = buildConfig({ addresses, timeScale: 0.02, seed: 1, ingress: { enabled: false } });
  const { manifests } = await loadManifests([manifestsDir]);
  const control = new ContainerControlPlane({ config, manifests });
  const server = await startControlServer(control, '127.0.0.1', 0);
  const node = await NodeRole.start({
    name: config.nodes[0]!,
    controlUrl: server.url,
    network: new LoopbackNetwork([nodeAddress(0)]),
    probeSource: probeSourceAddress(addresses.nodeSubnet),
    dnsPort: 0,
    ...(observePort === undefined ? {} : { observePort }),
  });
  const lb = await LoadBalancerRole.start({
    controlUrl: server.url,
    network: new LoopbackNetwork([addresses.publicFrontends.replace(/0\.0\/16$/, '255.1'), nodeAddress(90)]),
    ...(observePort === undefined ? {} : { observePort }),
  });
  return { control, server, node, lb };
}

async function stopRoles(roles: Roles | undefined): Promise<void> {
  await roles?.lb.stop();
  await roles?.node.stop();
  await roles?.server.close();
  await roles?.control.stop();
}

// The roles of the container runtime in one process, all on loopback: one node container
// of three (the other two never report, as if stopped), the lb, and control.
describe('the container roles wired over HTTP on loopback', () => {
  let roles: Roles;
  let control: ContainerControlPlane;
  let lb: LoadBalancerRole;

  beforeAll(async () => {
    roles = await startRoles();
    ({ control, lb } = roles);
  });

  afterAll(() => stopRoles(roles));

  it('shows the reporting node running and the silent ones stopped', async () => {
    await until('node 0 running', () => control.snapshot.nodes[0]?.running);
    expect(control.snapshot.nodes.slice(1).map((n) => n.running)).toEqual([false, false]);
  });

  it('marks the pods of the reporting node Ready from its prober', async () => {
    await until('a ready pod on node 0', () => control.snapshot.pods.some((p) => p.nodeName === control.snapshot.nodes[0]!.name && p.ready));
  });

  it('takes the silent nodes out by probes and delivers every flow to the live node over the network', async () => {
    const silent = control.snapshot.nodes.slice(1).map((n) => n.name);
    await until('probes down for silent nodes', () => {
      const rows = control.probeStatus().filter((s) => silent.includes(s.node));
      return rows.length > 0 && rows.every((s) => s.state === 'down');
    });
    // The live node must have answered its probes too: before it has, a busy machine may have failed one and left no node up.
    const live = control.snapshot.nodes[0]!.name;
    await until('probes up for the live node', () => {
      const rows = control.probeStatus().filter((s) => s.node === live);
      return rows.length > 0 && rows.every((s) => s.state === 'up' && s.settled !== false);
    });
    const ip = control.snapshot.services.find((s) => s.name === 'web')!.loadBalancer!.ip!;
    await until('the lb frontend', () => lb.snapshot?.version === control.snapshot.version);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await echo(`http://${ip}:80/`)).remoteAddress);
    // Cluster policy: the pod sees the node that received the flow (SNAT).
    expect([...seen]).toEqual([nodeAddress(0)]);
  });

  it('serves a ClusterIP to a client that is not a pod through the gateway node', async () => {
    const clusterIP = control.snapshot.services.find((s) => s.name === 'web-nodeport')!.clusterIP;
    const body = await echo(`http://${clusterIP}:8080/`, { localAddress: '127.0.0.1' });
    expect(body.node).toBe(control.snapshot.nodes[0]!.name);
  });
});

// Faults, /metrics and traces of the container runtime: control owns the registry and
// ships the active faults to the roles over its fault watch; it gathers the roles' own
// metrics and traces when its own are read.
describe('faults, metrics and traces through control, on loopback', () => {
  // The first suite's addresses and ports: suites of one file run one after the other.
  let roles: Roles;
  let control: ContainerControlPlane;
  let lb: LoadBalancerRole;
  const api = (path: string, init?: RequestInit) => fetch(`${roles.server.url}${path}`, init);
  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let ip: string;

  beforeAll(async () => {
    roles = await startRoles(0);
    ({ control, lb } = roles);
    const live = control.snapshot.nodes[0]!.name;
    await until('probes up for the live node', () => {
      const rows = control.probeStatus().filter((s) => s.node === live);
      return rows.length > 0 && rows.every((s) => s.state === 'up' && s.settled !== false);
    });
    ip = control.snapshot.services.find((s) => s.name === 'web')!.loadBalancer!.ip!;
    await until('the lb frontend', () => lb.snapshot?.version === control.snapshot.version);
    await until('web answers', async () => (await echo(`http://${ip}:80/`).catch(() => undefined)) !== undefined);
  });

  afterAll(() => stopRoles(roles));

  it('a reset fault on the frontend resets real clients until it is removed, and counts what it did', async () => {
    const added = await api('/aks-emu/v1/faults', json({ type: 'reset', target: 'frontend/default/web', params: { fraction: 1 } }));
    expect(added.status).toBe(201);
    const fault = (await added.json()) as { id: string };
    await until('a reset at the frontend', async () => ['ECONNRESET', 'closed'].includes(await connectOutcome(ip, 80)));
    await until('fired counted in control', async () => ((await (await api(`/aks-emu/v1/faults/${fault.id}`)).json()) as { fired: number }).fired >= 1);
    expect((await api(`/aks-emu/v1/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(200);
    await until('web answers again', async () => (await echo(`http://${ip}:80/`).catch(() => undefined)) !== undefined);
    expect(((await (await api('/aks-emu/v1/faults')).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("a reset fault on the Service acts in the node's kube-proxy: the client through the lb is reset", async () => {
    const added = await api('/aks-emu/v1/faults', json({ type: 'reset', target: 'service/default/web', params: { fraction: 1 } }));
    expect(added.status).toBe(201);
    const fault = (await added.json()) as { id: string };
    await until('a reset through the node', async () => (await echo(`http://${ip}:80/`).catch((err: NodeJS.ErrnoException) => err.code)) === 'ECONNRESET');
    expect((await api(`/aks-emu/v1/faults/${fault.id}`, { method: 'DELETE' })).status).toBe(200);
    await until('web answers again', async () => (await echo(`http://${ip}:80/`).catch(() => undefined)) !== undefined);
  });

  it('a fault with a duration expires in control and the roles drop it from their tables', async () => {
    const added = await api('/aks-emu/v1/faults', json({ type: 'reset', target: 'frontend/default/web', params: { fraction: 1 }, for: '2s' }));
    expect(added.status).toBe(201);
    await until('a reset while it lasts', async () => ['ECONNRESET', 'closed'].includes(await connectOutcome(ip, 80)));
    await until('the fault gone from control', async () => ((await (await api('/aks-emu/v1/faults')).json()) as { items: unknown[] }).items.length === 0);
    await until('web answers after expiry', async () => (await echo(`http://${ip}:80/`).catch(() => undefined)) !== undefined);
  });

  it('an unready fault is a runtime fact control sets: the pod leaves its endpoints until the fault goes', async () => {
    const live = control.snapshot.nodes[0]!.name;
    const pod = control.snapshot.pods.find((p) => p.name.startsWith('web-') && p.nodeName === live && p.ready)!;
    const added = await api('/aks-emu/v1/faults', json({ type: 'unready', target: `pod/${pod.namespace}/${pod.name}` }));
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    await until('the pod NotReady', () => control.snapshot.pods.find((p) => p.name === pod.name)?.ready === false);
    expect(control.faults().find((f) => f.id === id)?.fired).toBe(1);
    expect((await api(`/aks-emu/v1/faults/${id}`, { method: 'DELETE' })).status).toBe(200);
    await until('the pod Ready again', () => control.snapshot.pods.find((p) => p.name === pod.name)?.ready);
  });

  it('refuses a crash of a built-in pod with a 422 naming the fault type', async () => {
    const pod = control.snapshot.pods.find((p) => p.name.startsWith('web-'))!;
    const res = await api('/aks-emu/v1/faults', json({ type: 'crash', target: `pod/${pod.namespace}/${pod.name}` }));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toContain('fault type crash');
    expect(control.faults()).toEqual([]);
  });

  it("serves /metrics as one exposition of control's and every role's, labelled by job and instance", async () => {
    await echo(`http://${ip}:80/`);
    const text = await (await api('/metrics')).text();
    const { samples } = parseExposition(text);
    const up = samples.filter((s) => s.name === 'aks_emu_federate_up');
    expect(up.map((s) => `${s.labels.job}/${s.labels.instance}=${s.value}`).sort()).toEqual([
      'control/control=1',
      'lb/lb=1',
      `node/${control.snapshot.nodes[0]!.name}=1`,
    ]);
    expect(total(samples, 'aks_emu_lb_connections_total', { job: 'lb', service: 'default/web:http' })).toBeGreaterThan(0);
    expect(total(samples, 'aks_emu_kube_proxy_connections_total', { job: 'node', service: 'web' })).toBeGreaterThan(0);
    expect(total(samples, 'aks_emu_fault_fired_total', { job: 'control', type: 'reset' })).toBe(0);
  });

  it("follows every role's trace stream through control (aks-emu trace -f)", async () => {
    const controller = new AbortController();
    const res = await api('/aks-emu/v1/traces?follow=1', { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The stream says it follows once every role's stream is asked for; traffic after that is seen.
    while (!text.includes(': following')) text += decoder.decode((await reader.read()).value, { stream: true });
    await until('traces of the lb and the node in the stream', async () => {
      await echo(`http://${ip}:80/`);
      while (!/"instance":"lb"/.test(text) || !text.includes(`"instance":"${control.snapshot.nodes[0]!.name}"`)) {
        const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500))]);
        if (chunk === undefined) return false;
        text += decoder.decode(chunk.value, { stream: true });
      }
      return true;
    });
    controller.abort();
  });

  it('gathers traces from the roles, each saying which role kept it', async () => {
    await echo(`http://${ip}:80/`);
    const all = (await (await api('/aks-emu/v1/traces?last=50')).json()) as { items: { instance: string; start: string }[] };
    expect(new Set(all.items.map((t) => t.instance))).toEqual(new Set(['lb', control.snapshot.nodes[0]!.name]));
    expect(all.items.map((t) => t.start)).toEqual(all.items.map((t) => t.start).sort());
    // The lb's hop knows the LB rule, not the Service: kube-proxy on the node names it.
    const web = (await (await api('/aks-emu/v1/traces?service=default/web&last=5')).json()) as { items: { instance: string; service: string }[] };
    expect(web.items.length).toBeGreaterThan(0);
    expect(web.items.every((t) => t.instance === control.snapshot.nodes[0]!.name && t.service === 'default/web')).toBe(true);
  });
});
