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
import { echo } from '../../helpers/net.js';

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

// The roles of the container runtime in one process, all on loopback: one node container
// of three (the other two never report, as if stopped), the lb, and control.
describe('the container roles wired over HTTP on loopback', () => {
  let control: ContainerControlPlane;
  let server: ControlServer;
  let node: NodeRole;
  let lb: LoadBalancerRole;
  const nodeAddress = (i: number) => addresses.nodeSubnet.replace(/0\.0\/16$/, `0.${4 + i}`);

  beforeAll(async () => {
    const config = buildConfig({ addresses, timeScale: 0.02, seed: 1, ingress: { enabled: false } });
    const { manifests } = await loadManifests([manifestsDir]);
    control = new ContainerControlPlane({ config, manifests });
    server = await startControlServer(control, '127.0.0.1', 0);
    const name = config.nodes[0]!;
    node = await NodeRole.start({
      name,
      controlUrl: server.url,
      network: new LoopbackNetwork([nodeAddress(0)]),
      probeSource: probeSourceAddress(addresses.nodeSubnet),
      dnsPort: 0,
    });
    lb = await LoadBalancerRole.start({
      controlUrl: server.url,
      network: new LoopbackNetwork([addresses.publicFrontends.replace(/0\.0\/16$/, '255.1'), nodeAddress(90)]),
    });
  });

  afterAll(async () => {
    await lb?.stop();
    await node?.stop();
    await server?.close();
    await control?.stop();
  });

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
