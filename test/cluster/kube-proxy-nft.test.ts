import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { KUBE_PROXY_NFT_TABLE, renderKubeProxyNft, servicePortPaths, type KubeProxyNftFacts } from '../../src/cluster/kube-proxy-nft.js';
import type { Endpoint, NodeInfo, PodInfo, ServiceInfo, Snapshot } from '../../src/cluster/snapshot.js';

const NODE_A = 'node-a';
const NODE_B = 'node-b';
const node = (name: string, index: number): NodeInfo =>
  ({
    name,
    index,
    address: `10.224.0.${4 + index}`,
    podCIDR: `10.244.${index}.0/24`,
    running: true,
    ready: true,
    labels: {},
    annotations: {},
    unschedulable: false,
  }) as NodeInfo;

const endpoint = (ip: string, nodeName: string, port = 8080): Endpoint => ({ ip, port, nodeName, ready: true, serving: true, terminating: false });
const containerPod = (ip: string, nodeName: string): PodInfo =>
  ({ ip, nodeName, name: `p-${ip}`, namespace: 'default', runtime: { kind: 'container' } }) as unknown as PodInfo;

function svc(name: string, extra: Partial<ServiceInfo> = {}): ServiceInfo {
  return {
    namespace: 'default',
    name,
    type: 'NodePort',
    clusterIP: '10.0.0.20',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    ...extra,
  } as ServiceInfo;
}

function snapshot(services: ServiceInfo[], endpoints: Record<string, Endpoint[]>, extra: Partial<Snapshot> = {}): Snapshot {
  return {
    version: 7,
    settings: {
      timeScale: 0.5,
      endpointSelection: 'round-robin',
      addresses: { nodeSubnet: '10.224.0.0/16', podCIDR: '10.244.0.0/16', serviceCIDR: '10.0.0.0/16', publicFrontends: '172.30.0.0/16' },
    },
    nodes: [node(NODE_A, 0), node(NODE_B, 1)],
    pods: [containerPod('10.244.0.5', NODE_A), containerPod('10.244.1.5', NODE_B)],
    services,
    endpoints: Object.entries(endpoints).map(([name, usable]) => ({
      serviceKey: `default/${name}`,
      ports: [{ name: 'http', protocol: 'TCP', endpoints: usable, usable }],
    })),
    loadBalancers: [],
    ...extra,
  } as unknown as Snapshot;
}

const facts: KubeProxyNftFacts = { node: NODE_A, mode: 'nftables', probeSource: '10.224.0.3' };
const TWO = [endpoint('10.244.0.5', NODE_A), endpoint('10.244.1.5', NODE_B)];

/** The rules of one chain (or map/set body), trimmed. */
function block(text: string, head: string): string[] {
  const start = text.indexOf(`\t${head} {\n`);
  expect(start, `${head} in\n${text}`).toBeGreaterThanOrEqual(0);
  return text
    .slice(start)
    .split('\n\t}')[0]!
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
}
const chainNamed = (text: string, prefix: string): string => {
  const match = new RegExp(`\\tchain (${prefix}-[\\w-]+) \\{`).exec(text);
  expect(match, `a chain ${prefix}-… in\n${text}`).not.toBeNull();
  return match![1]!;
};

describe('kube-proxy nftables table of one node', () => {
  it('replaces the table whole: create, delete, then the new table, in one nft -f text', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web')], { web: TWO }), facts);
    const lines = ruleset.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `add table ip ${KUBE_PROXY_NFT_TABLE}`,
      `delete table ip ${KUBE_PROXY_NFT_TABLE}`,
      `table ip ${KUBE_PROXY_NFT_TABLE} {`,
    ]);
  });

  it('maps the ClusterIP and the NodePort (on the node address, not for the LB probes) to their chains', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web')], { web: TWO }), facts);
    expect(block(ruleset, 'map service-ips').join(' ')).toMatch(/10\.0\.0\.20 \. tcp \. 80 : goto cluster-\w+/);
    expect(block(ruleset, 'map service-nodeports').join(' ')).toMatch(/tcp \. 30080 : goto external-\w+/);
    expect(block(ruleset, 'chain nat-prerouting')).toContain('ip saddr != 10.224.0.3 ip daddr 10.224.0.4 meta l4proto . th dport vmap @service-nodeports');
  });

  it('Cluster policy: masquerades external flows and picks among every endpoint round robin, each endpoint a counted DNAT', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web')], { web: TWO }), facts);
    const external = block(ruleset, `chain ${chainNamed(ruleset, 'external')}`);
    expect(external[0]).toBe('jump mark-for-masquerade');
    const service = chainNamed(ruleset, 'service');
    expect(external[1]).toBe(`goto ${service}`);
    const choice = block(ruleset, `chain ${service}`);
    expect(choice).toHaveLength(1);
    expect(choice[0]).toMatch(/^numgen inc mod 2 vmap \{ 0 : goto endpoint-\w+-0, 1 : goto endpoint-\w+-1 \}$/);
    const endpoints = [...ruleset.matchAll(/counter meta l4proto tcp dnat to ([\d.:]+) comment "default\/web:http -> /g)].map((m) => m[1]);
    expect(endpoints).toEqual(['10.244.0.5:8080', '10.244.1.5:8080']);
  });

  it('uses numgen random when the endpoint selection is random', () => {
    const s = snapshot([svc('web')], { web: TWO });
    const random = { ...s, settings: { ...s.settings, endpointSelection: 'random' } } as Snapshot;
    expect(renderKubeProxyNft(random, facts).ruleset).toMatch(/numgen random mod 2 vmap/);
  });

  it('masquerades a ClusterIP flow from outside the pod CIDR only, and hairpin / same-bridge flows to a container pod of this node', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web')], { web: TWO }), facts);
    expect(block(ruleset, `chain ${chainNamed(ruleset, 'cluster')}`)[0]).toBe('ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
    const local = block(ruleset, `chain ${chainNamed(ruleset, 'endpoint')}`);
    expect(local.slice(0, 2)).toEqual(['ip saddr 10.244.0.5 jump mark-for-masquerade', 'ip saddr 10.244.0.0/24 jump mark-for-masquerade']);
    // The other node's pod is not on this node's bridge: only the hairpin rule.
    const remote = ruleset.split('\n').filter((l) => l.includes('ip saddr 10.244.1.5 jump'));
    expect(remote).toHaveLength(1);
    expect(ruleset).not.toMatch(/10\.244\.1\.0\/24 jump/);
  });

  it('Local policy: keeps the client address, uses this node’s endpoints only, drops without one, gives pods Cluster routing', () => {
    const local = svc('web', { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
    const { ruleset } = renderKubeProxyNft(snapshot([local], { web: TWO }), facts);
    const external = block(ruleset, `chain ${chainNamed(ruleset, 'external')}`);
    expect(external).toEqual([`ip saddr 10.244.0.0/16 goto ${chainNamed(ruleset, 'service')}`, `goto ${chainNamed(ruleset, 'local')}`]);
    expect(block(ruleset, `chain ${chainNamed(ruleset, 'local')}`)[0]).toMatch(/^numgen inc mod 1 vmap \{ 0 : goto endpoint-\w+-0 \}$/);
    // The healthCheckNodePort stays with aks-emu.
    expect(ruleset).not.toContain('32000');

    const onB = renderKubeProxyNft(snapshot([local], { web: [endpoint('10.244.1.5', NODE_B)] }), facts).ruleset;
    expect(block(onB, `chain ${chainNamed(onB, 'local')}`)).toEqual(['counter drop']);
  });

  it('internalTrafficPolicy Local: the ClusterIP uses this node’s endpoints only', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web', { type: 'ClusterIP', internalTrafficPolicy: 'Local' })], { web: TWO }), facts);
    expect(block(ruleset, `chain ${chainNamed(ruleset, 'cluster')}`)[1]).toBe(`goto ${chainNamed(ruleset, 'local')}`);
    expect(ruleset).toContain('\tmap service-nodeports { type inet_proto . inet_service : verdict; }');
    expect(ruleset).not.toContain('30080');
  });

  it('rejects a port without endpoints (ClusterIP and NodePort) with a TCP reset, counted per Service port', () => {
    const { ruleset, counters } = renderKubeProxyNft(snapshot([svc('web')], { web: [] }), facts);
    const reject = chainNamed(ruleset, 'reject');
    expect(block(ruleset, 'map no-endpoint-services')).toContain(
      `elements = { 10.0.0.20 . tcp . 80 : goto ${reject}, 10.224.0.4 . tcp . 30080 : goto ${reject} }`,
    );
    expect(block(ruleset, 'chain filter-input')[1]).toContain('ct state new meta l4proto tcp ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
    expect(block(ruleset, `chain ${reject}`)).toEqual(['counter reject with tcp reset']);
    expect(counters.get(reject)).toEqual({ kind: 'no-endpoints', node: NODE_A, service: 'default/web', port: 'http' });
    expect(ruleset).not.toContain('dnat to');
  });

  it('names what each counted rule counts: the DNAT per endpoint, the Local drop', () => {
    const { ruleset, counters } = renderKubeProxyNft(snapshot([svc('web', { type: 'NodePort', externalTrafficPolicy: 'Local' })], { web: TWO }), facts);
    const dnats = [...counters.entries()].filter(([, ref]) => ref.kind === 'endpoint');
    expect(dnats).toHaveLength(2);
    for (const [key, ref] of dnats) {
      const [chain, comment] = key.split('|');
      expect(block(ruleset, `chain ${chain!}`).at(-1)).toContain(`comment "${comment!}"`);
      expect(ref).toMatchObject({ node: NODE_A, service: 'default/web', port: 'http', endpoint: comment!.split(' -> ')[1] });
    }
    expect([...counters.values()].some((ref) => ref.kind === 'local-drop')).toBe(false);
    const remote = renderKubeProxyNft(snapshot([svc('web', { externalTrafficPolicy: 'Local' })], { web: [endpoint('10.244.1.5', NODE_B)] }), facts);
    expect(remote.counters.get(chainNamed(remote.ruleset, 'local'))).toEqual({ kind: 'local-drop', node: NODE_A, service: 'default/web', port: 'http' });
  });

  it('ClientIP affinity: one timed set per endpoint (scaled timeout), looked up before the choice and refreshed by each flow', () => {
    const { ruleset } = renderKubeProxyNft(snapshot([svc('web', { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 60 })], { web: TWO }), facts);
    const sets = [...ruleset.matchAll(/\tset (affinity-\w+-\d) \{/g)].map((m) => m[1]!);
    expect(sets).toHaveLength(2);
    expect(block(ruleset, `set ${sets[0]!}`)).toContain('timeout 30000ms');
    const choice = block(ruleset, `chain ${chainNamed(ruleset, 'service')}`);
    expect(choice.slice(0, 2)).toEqual(sets.map((s, i) => `ip saddr @${s} goto ${s.replace('affinity', 'endpoint').replace(/-\d$/, `-${i}`)}`));
    expect(ruleset).toContain(`update @${sets[0]!} { ip saddr }`);
  });

  it('keeps a Service port on the user-space path with the reason: mode, stopped node, fault, NetworkPolicy', () => {
    const s = snapshot([svc('web'), svc('api', { clusterIP: '10.0.0.21' })], { web: TWO, api: [endpoint('10.244.1.9', NODE_B)] });
    expect(servicePortPaths(s, facts)).toEqual([
      { path: 'kernel', servicePort: 'default/web:http', endpoints: 2, localEndpoints: 1 },
      { path: 'kernel', servicePort: 'default/api:http', endpoints: 1, localEndpoints: 0 },
    ]);
    expect(servicePortPaths(s, { ...facts, mode: 'userspace' }).map((p) => p.path === 'userspace' && p.reason)).toEqual(['mode', 'mode']);
    const stopped = { ...s, nodes: s.nodes.map((n) => (n.name === NODE_A ? { ...n, running: false } : n)) } as Snapshot;
    expect(renderKubeProxyNft(stopped, facts).ruleset).toBe(`add table ip ${KUBE_PROXY_NFT_TABLE}\ndelete table ip ${KUBE_PROXY_NFT_TABLE}\n`);
    const faulted = servicePortPaths(s, { ...facts, faults: { node: false, servicePorts: new Set(['default/web:http']), podIPs: new Set(['10.244.1.9']) } });
    expect(faulted.map((p) => (p.path === 'userspace' ? p.reason : p.path))).toEqual(['fault', 'fault']);
    const isolated = {
      ...s,
      networkPolicy: {
        policies: [],
        nodeAddresses: [],
        pods: { '10.244.1.9': { key: 'default/x', nodeAddress: '', ingress: [0], egress: [], namedPorts: {} } },
      },
    } as unknown as Snapshot;
    expect(servicePortPaths(isolated, facts).map((p) => (p.path === 'userspace' ? p.reason : p.path))).toEqual(['kernel', 'network-policy']);
    const egress = {
      ...isolated,
      networkPolicy: { ...isolated.networkPolicy, pods: { '10.244.7.7': { key: 'default/y', nodeAddress: '', ingress: [], egress: [0], namedPorts: {} } } },
    } as unknown as Snapshot;
    expect(servicePortPaths(egress, facts).map((p) => (p.path === 'userspace' ? p.reason : p.path))).toEqual(['network-policy', 'network-policy']);
  });

  it('leaves headless and ExternalName Services and non-TCP ports out', () => {
    const s = snapshot(
      [
        svc('headless', { clusterIP: 'None' }),
        svc('ext', { type: 'ExternalName', clusterIP: '' }),
        svc('dns', { type: 'ClusterIP', ports: [{ name: 'http', protocol: 'UDP', port: 53, targetPort: 53 }] }),
      ],
      {},
    );
    expect(servicePortPaths(s, facts)).toEqual([]);
  });

  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  it.skipIf(nft.status !== 0 || process.getuid?.() !== 0)('renders text nft accepts', () => {
    const services = [
      svc('web', { sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 5 }),
      svc('local', {
        clusterIP: '10.0.0.22',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30081 }],
      }),
      svc('empty', { clusterIP: '10.0.0.23', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30082 }] }),
      svc('itp', { type: 'ClusterIP', clusterIP: '10.0.0.24', internalTrafficPolicy: 'Local' }),
    ];
    const s = snapshot(services, { web: TWO, local: [endpoint('10.244.1.5', NODE_B)], empty: [], itp: TWO });
    for (const text of [renderKubeProxyNft(s, facts).ruleset, renderKubeProxyNft(s, { ...facts, mode: 'userspace' }).ruleset]) {
      const check = spawnSync('nft', ['--check', '-f', '-'], { input: text, encoding: 'utf8' });
      expect(check.stderr, text).toBe('');
      expect(check.status).toBe(0);
    }
  });
});
