import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { LB_NFT_TABLE, renderLbNft, type LbNftFacts } from '../../src/cluster/kube-proxy-nft-lb.js';
import type { LoadBalancingRule, Snapshot } from '../../src/cluster/snapshot.js';

const NODES = ['n0', 'n1', 'n2'];

function rule(extra: Partial<LoadBalancingRule> = {}): LoadBalancingRule {
  return {
    name: 'a1-TCP-80',
    frontendName: 'a1',
    frontendIP: '172.30.0.2',
    frontendPort: 80,
    protocol: 'TCP',
    backendPort: 31000,
    serviceKey: 'default/web',
    servicePortName: 'http',
    probeName: 'a1-TCP-80',
    distribution: 'round-robin',
    idleTimeoutMinutes: 4,
    enableTcpReset: true,
    enableFloatingIP: false,
    sourceRanges: [],
    ...extra,
  };
}

function snapshot(rules: LoadBalancingRule[], nodePort?: number): Snapshot {
  return {
    version: 3,
    services: [{ namespace: 'default', name: 'web', ports: [{ name: 'http', port: 80, ...(nodePort === undefined ? {} : { nodePort }) }] }],
    settings: { timeScale: 0.5 },
    nodes: NODES.map((name, i) => ({ name, address: `10.224.0.${4 + i}` })),
    loadBalancers: [{ name: 'kubernetes', internal: false, frontends: [], rules, probes: [], backendPool: NODES }],
  } as unknown as Snapshot;
}

const facts = (up: readonly string[]): LbNftFacts => ({ mode: 'nftables', up: () => up });
const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe('the Azure LB frontends as an nftables table', () => {
  it('DNATs a frontend to the nodes the probes hold up, round robin, masqueraded, counted', () => {
    const { ruleset, paths } = renderLbNft(snapshot([rule()]), facts(['n0', 'n2']));
    expect(paths).toEqual([{ path: 'kernel', rule: 'kubernetes/a1-TCP-80', nodes: ['n0', 'n2'] }]);
    expect(lines(ruleset)).toContain('elements = { 172.30.0.2 . tcp . 80 : goto rule-0 }');
    expect(lines(ruleset)).toContain('numgen inc mod 2 vmap { 0 : goto rule-0-0, 1 : goto rule-0-1 }');
    expect(lines(ruleset)).toContain('counter meta l4proto tcp dnat to 10.224.0.4:31000 comment "kubernetes/a1-TCP-80 -> n0"');
    expect(lines(ruleset)).toContain('counter meta l4proto tcp dnat to 10.224.0.6:31000 comment "kubernetes/a1-TCP-80 -> n2"');
    expect(ruleset).not.toContain('10.224.0.5');
    expect(lines(ruleset)).toContain('counter masquerade');
  });

  it('dials the Service port’s NodePort on the node, as the user-space lb does (a floating-IP rule’s backendPort is the frontend port)', () => {
    const { ruleset } = renderLbNft(snapshot([rule({ enableFloatingIP: true, backendPort: 80 })], 31500), facts(['n1']));
    expect(lines(ruleset)).toContain('counter meta l4proto tcp dnat to 10.224.0.5:31500 comment "kubernetes/a1-TCP-80 -> n1"');
  });

  it('drops when no node is up, and outside the source ranges; hashes for the five-tuple and source-IP modes', () => {
    expect(renderLbNft(snapshot([rule()]), facts([])).ruleset).toContain('counter drop comment "kubernetes/a1-TCP-80: no backend up"');
    const ranged = renderLbNft(snapshot([rule({ sourceRanges: ['10.1.0.0/16', '192.168.0.0/24'] })]), facts(NODES)).ruleset;
    expect(lines(ranged)).toContain('ip saddr != { 10.1.0.0/16, 192.168.0.0/24 } counter drop comment "kubernetes/a1-TCP-80: outside source ranges"');
    expect(renderLbNft(snapshot([rule({ distribution: 'five-tuple' })]), facts(NODES)).ruleset).toContain(
      'jhash ip saddr . tcp sport . ip daddr . tcp dport mod 3 seed 0x2a vmap',
    );
    expect(renderLbNft(snapshot([rule({ distribution: 'source-ip' })]), facts(NODES)).ruleset).toContain('jhash ip saddr mod 3 seed 0x2a vmap');
  });

  it('a rule without a probe uses every node of the pool; the idle timeout (scaled) is the flows’ conntrack timeout', () => {
    const { ruleset } = renderLbNft(snapshot([rule({ probeName: undefined })]), facts([]));
    expect(ruleset).toContain('numgen inc mod 3');
    expect(lines(ruleset)).toContain('policy = { established: 120 }');
    expect(lines(ruleset)).toContain('ip daddr 172.30.0.2 tcp dport 80 ct timeout set "idle-120"');
  });

  it('keeps a rule in user space with a fault on its frontend or a node, or in userspace mode; no kernel rule: only the removal', () => {
    const s = snapshot([rule()]);
    const removal = `add table ip ${LB_NFT_TABLE}\ndelete table ip ${LB_NFT_TABLE}\n`;
    const faulted = renderLbNft(s, { ...facts(NODES), faults: { nodes: false, servicePorts: new Set(['default/web:http']) } });
    expect(faulted).toEqual({ paths: [{ path: 'userspace', rule: 'kubernetes/a1-TCP-80', reason: 'fault' }], ruleset: removal, counters: new Map() });
    expect(renderLbNft(s, { ...facts(NODES), faults: { nodes: true, servicePorts: new Set() } }).paths[0]).toMatchObject({ reason: 'fault' });
    expect(renderLbNft(s, { ...facts(NODES), mode: 'userspace' }).paths[0]).toMatchObject({ reason: 'mode' });
  });

  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  it.skipIf(nft.status !== 0 || process.getuid?.() !== 0)('renders text nft accepts', () => {
    const s = snapshot([
      rule(),
      rule({ name: 'a1-TCP-443', frontendPort: 443, distribution: 'source-ip-protocol', sourceRanges: ['10.0.0.0/8'] }),
      rule({ name: 'a2-TCP-80', frontendIP: '172.30.0.3', idleTimeoutMinutes: 30 }),
    ]);
    for (const up of [NODES, []]) {
      const check = spawnSync('nft', ['--check', '-f', '-'], { input: renderLbNft(s, facts(up)).ruleset, encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });
});
