/**
 * The node's and lb's table loader without a kernel: what it hands `nft -f`, and when.
 */
import { describe, expect, it } from 'vitest';

import { KUBE_PROXY_NFT_TABLE } from '../../../src/cluster/kube-proxy-nft.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';
import type { FaultHolder, FaultTable } from '../../../src/faults/compile.js';
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
