/**
 * The node's and lb's table loader without a kernel: what it hands `nft -f`, and when.
 */
import { describe, expect, it } from 'vitest';

import { KUBE_PROXY_NFT_TABLE, renderKubeProxyNft } from '../../../src/cluster/kube-proxy-nft.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';
import type { FaultHolder, FaultTable } from '../../../src/faults/compile.js';
import { Counters } from '../../../src/dataplane/stats.js';
import { KernelCounters, parseNftCounters } from '../../../src/runtime/container/kernel-counters.js';
import { describePaths, kernelProxy, parseProxyMode } from '../../../src/runtime/container/kernel-proxy.js';

const NODE = 'node-a';
const snapshot = (endpoints: string[], running = true): Snapshot =>
  ({
    version: 1,
    settings: {
      timeScale: 1,
      endpointSelection: 'round-robin',
      addresses: { nodeSubnet: '10.224.0.0/16', podCIDR: '10.244.0.0/16', serviceCIDR: '10.0.0.0/16', publicFrontends: '172.30.0.0/16' },
    },
    nodes: [{ name: NODE, address: '10.224.0.4', podCIDR: '10.244.0.0/24', running }],
    pods: [],
    services: [
      {
        namespace: 'default',
        name: 'web',
        type: 'ClusterIP',
        clusterIP: '10.0.0.20',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
        sessionAffinity: 'None',
        sessionAffinityTimeoutSeconds: 10800,
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
      },
    ],
    endpoints: [
      {
        serviceKey: 'default/web',
        ports: [
          {
            name: 'http',
            protocol: 'TCP',
            endpoints: [],
            usable: endpoints.map((ip) => ({ ip, port: 8080, nodeName: NODE, ready: true, serving: true, terminating: false })),
          },
        ],
      },
    ],
    loadBalancers: [],
  }) as unknown as Snapshot;

function setUp(failWith?: string) {
  const loaded: string[] = [];
  const logged: string[] = [];
  const faults: FaultHolder = { table: undefined };
  let fail = failWith;
  const sync = kernelProxy({
    node: NODE,
    probeSource: '10.224.0.3',
    faults,
    log: (line) => logged.push(line),
    nft: async (text) => {
      if (fail !== undefined) throw new Error(fail);
      loaded.push(text);
    },
  });
  return { sync, loaded, logged, faults, heal: () => (fail = undefined) };
}
const removal = `add table ip ${KUBE_PROXY_NFT_TABLE}\ndelete table ip ${KUBE_PROXY_NFT_TABLE}\n`;

describe('the kernel table loader', () => {
  it('loads the table once per change of its text, and says what is where when that changes', async () => {
    const { sync, loaded, logged } = setUp();
    await sync.sync(snapshot(['10.244.0.5']));
    await sync.sync(snapshot(['10.244.0.5']));
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toContain('dnat to 10.244.0.5:8080');
    await sync.sync(snapshot(['10.244.0.5', '10.244.0.6']));
    expect(loaded).toHaveLength(2);
    expect(logged).toEqual(['kube-proxy nftables: 1 Service port in the kernel; none in user space']);
    expect(sync.paths).toEqual([{ path: 'kernel', servicePort: 'default/web:http', endpoints: 2, localEndpoints: 2 }]);
  });

  it('moves a port to user space when a fault appears (a sync without a snapshot re-reads the faults)', async () => {
    const { sync, loaded, logged, faults } = setUp();
    await sync.sync(snapshot(['10.244.0.5']));
    faults.table = { nodes: new Map(), pods: new Map(), ports: new Map([['service|default/web:http', []]]), rules: new Map() } as unknown as FaultTable;
    await sync.sync();
    expect(loaded.at(-1)).toBe(removal);
    expect(logged.at(-1)).toBe('kube-proxy nftables: 0 Service ports in the kernel; in user space: default/web:http (fault)');
  });

  it('keeps the previous rules when nft fails, says so, and tries again on the next sync', async () => {
    const { sync, loaded, logged, heal } = setUp('Error: Could not process rule: No such file or directory');
    await sync.sync(snapshot(['10.244.0.5']));
    expect(loaded).toEqual([]);
    expect(logged[0]).toMatch(/^kube-proxy nftables: the table keeps its previous rules: .*No such file/);
    heal();
    await sync.sync();
    expect(loaded).toHaveLength(1);
  });

  it('runs one load at a time: syncs during one end in one more load with the latest state', async () => {
    const { sync, loaded } = setUp();
    await Promise.all([sync.sync(snapshot(['10.244.0.5'])), sync.sync(snapshot(['10.244.0.6'])), sync.sync(snapshot(['10.244.0.7']))]);
    expect(loaded).toHaveLength(2);
    expect(loaded[1]).toContain('dnat to 10.244.0.7:8080');
  });

  it('loads nothing for a stopped node that never had a table, removes a loaded table on stop', async () => {
    const { sync, loaded } = setUp();
    await sync.sync(snapshot(['10.244.0.5'], false));
    expect(loaded).toEqual([]);
    await sync.sync(snapshot(['10.244.0.5']));
    await sync.stop();
    expect(loaded.at(-1)).toBe(removal);
  });

  it('reads the mode from AKS_EMU_PROXY_MODE, refusing anything else by name', () => {
    expect(parseProxyMode(undefined, 'AKS_EMU_PROXY_MODE')).toBe('userspace');
    expect(parseProxyMode('nftables', 'AKS_EMU_PROXY_MODE')).toBe('nftables');
    expect(() => parseProxyMode('ipvs', 'AKS_EMU_PROXY_MODE')).toThrow(/AKS_EMU_PROXY_MODE: "ipvs" is not a proxy mode/);
    expect(describePaths([])).toBe('0 Service ports in the kernel; none in user space');
  });
});

describe('the kernel table counters', () => {
  /** A table loader whose `nft -j list` answers from `packets` (DNAT rule → packets), as the kernel would. */
  function counted() {
    const dataCounters = new Counters();
    const packets = new Map<string, number>();
    let reads = 0;
    const counters = new KernelCounters(
      KUBE_PROXY_NFT_TABLE,
      () => dataCounters,
      async () => {
        reads++;
        return new Map(packets);
      },
    );
    const sync = kernelProxy({ node: NODE, faults: { table: undefined }, log: () => undefined, nft: async () => undefined, counters });
    return { dataCounters, packets, sync, reads: () => reads };
  }
  /** The counter key of the DNAT rule to one endpoint, as the renderer names it. */
  const dnat = (ip: string): string =>
    [...renderKubeProxyNft(snapshot(['10.244.0.5', '10.244.0.6']), { node: NODE, mode: 'nftables' }).counters.keys()].find((k) => k.endsWith(`-> ${ip}:8080`))!;

  it('adds each DNAT rule’s packets since the last read to kube-proxy’s and the endpoint’s connections, and keeps what a replaced table counted', async () => {
    const { dataCounters, packets, sync, reads } = counted();
    await sync.sync(snapshot(['10.244.0.5', '10.244.0.6']));
    packets.set(dnat('10.244.0.5'), 3);
    packets.set(dnat('10.244.0.6'), 2);
    await sync.readCounters();
    await sync.readCounters();
    const port = () => dataCounters.servicePort(NODE, 'default/web', 'http');
    expect(port().connections).toBe(5);
    expect(Object.fromEntries(port().endpointPicks ?? [])).toEqual({ '10.244.0.5:8080': 3, '10.244.0.6:8080': 2 });
    expect(dataCounters.endpoint('default/web', 'http', '10.244.0.5:8080', undefined, NODE).connections).toBe(3);
    // A replacement reads the old table first, then counts the new one from zero.
    packets.set(dnat('10.244.0.5'), 4);
    const before = reads();
    await sync.sync(snapshot(['10.244.0.5']));
    expect(reads()).toBe(before + 1);
    expect(port().connections).toBe(6);
    packets.clear();
    packets.set(dnat('10.244.0.5'), 1);
    await sync.readCounters();
    expect(port().connections).toBe(7);
  });

  it('counts a port without endpoints as refused connections, and reads nothing while no table is loaded', async () => {
    const { dataCounters, packets, sync, reads } = counted();
    await sync.readCounters();
    expect(reads()).toBe(0);
    const empty = snapshot([]);
    await sync.sync(empty);
    const reject = [...renderKubeProxyNft(empty, { node: NODE, mode: 'nftables' }).counters.keys()][0]!;
    packets.set(reject, 2);
    await sync.readCounters();
    const port = dataCounters.servicePort(NODE, 'default/web', 'http');
    expect([port.connections, port.refused]).toEqual([2, 2]);
  });

  it('reads packets per counted rule from nft’s JSON, and refuses other text', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { rule: { chain: 'endpoint-x-0', comment: 'a -> b', expr: [{ counter: { packets: 3, bytes: 180 } }, { dnat: {} }] } },
        { rule: { chain: 'reject-x', expr: [{ counter: { packets: 1, bytes: 60 } }, { reject: {} }] } },
        { rule: { chain: 'mark', expr: [{ mangle: {} }] } },
      ],
    });
    expect(parseNftCounters(json)).toEqual(
      new Map([
        ['endpoint-x-0|a -> b', 3],
        ['reject-x', 1],
      ]),
    );
    expect(() => parseNftCounters('{"other": 1}')).toThrow(/no "nftables" array/);
  });
});
