import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { evaluateFlow } from '../../../src/cluster/netpol/evaluate.js';
import { NFT_TABLE, renderPodRuleset } from '../../../src/cluster/netpol/render-nft.js';
import { compileNetworkPolicies, type NetworkPolicyTable } from '../../../src/cluster/netpol/table.js';
import { load } from '../../manifests/helpers.js';
import { policyPod, twoNodes } from './policy-pods.js';

const nodes = twoNodes('10.224.0');
const pod = (name: string, ip: string, labels: Record<string, string>, ports: { name: string; containerPort: number }[] = []) =>
  policyPod('shop', name, ip, labels, ports);

const WEB = '10.244.0.2';
const API = '10.244.0.3';
const API2 = '10.244.1.3';
const FRONT = '10.244.1.4';
const DNS = '10.0.0.10';
const pods = [
  pod('web', WEB, { app: 'web' }, [{ name: 'http', containerPort: 8080 }]),
  pod('api', API, { app: 'api' }, [{ name: 'http', containerPort: 3000 }]),
  pod('api2', API2, { app: 'api' }, [{ name: 'http', containerPort: 3001 }]),
  pod('front', FRONT, { app: 'front' }),
];

function tableOf(policies: object[]): NetworkPolicyTable | undefined {
  const manifests = load(
    policies.map((spec, i) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `p${i}`, namespace: 'shop' }, spec })),
  ).manifests;
  return compileNetworkPolicies({ policies: manifests.networkPolicies ?? [], namespaces: [], pods, nodes, clusterDns: DNS });
}

const ctx = (podIP: string) => ({ podIP, gateway: '10.244.0.1', serviceCIDR: '10.0.0.0/16' });
/** The rules of one chain, without comments and the chain's head. */
function chainRules(text: string, name: 'ingress' | 'egress'): string[] {
  const body = text.split(`chain ${name} {\n`)[1]!.split('\n\t}')[0]!;
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('#') && !l.startsWith('type filter'));
}

describe('renderPodRuleset', () => {
  it('replaces the whole table in one transaction, with accepting chains (conntrack on) when nothing isolates the pod', () => {
    const text = renderPodRuleset(undefined, ctx(WEB));
    expect(text).toContain(`table inet ${NFT_TABLE}\ndelete table inet ${NFT_TABLE}\ntable inet ${NFT_TABLE} {`);
    expect(chainRules(text, 'ingress')).toEqual(['ct state established,related accept']);
    expect(chainRules(text, 'egress')).toEqual(['ct state established,related accept']);
    expect(text).toContain('type filter hook input priority filter; policy accept;');
    expect(text).toContain('type filter hook output priority filter; policy accept;');
    // The netdev table goes too: created and deleted in the same transaction, so none is left.
    expect(text).toContain('table netdev aks-emu-netpol\ndelete table netdev aks-emu-netpol\n');
    expect(text).not.toContain('table netdev aks-emu-netpol {');
  });

  it('a default deny admits only established flows, loopback and the nodes, and drops the rest', () => {
    const table = tableOf([{ podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] }]);
    const text = renderPodRuleset(table, ctx(WEB));
    expect(chainRules(text, 'ingress')).toEqual([
      'ct state established,related accept',
      'iifname "lo" accept',
      'ip saddr { 10.224.0.4, 10.224.0.5, 10.244.0.1 } accept',
      'drop',
    ]);
    expect(chainRules(text, 'egress')).toEqual(['ct state established,related accept']);
    // A pod no policy selects keeps accepting chains.
    expect(chainRules(renderPodRuleset(table, ctx(API)), 'ingress')).toEqual(['ct state established,related accept']);
  });

  it('renders peers × ports: pod IPs, ipBlock with except, numbers, ranges, UDP and named ports of the destination', () => {
    const table = tableOf([
      {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'http' }, { port: 9000, endPort: 9010, protocol: 'UDP' }] },
          { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.1.0/24'] } }] },
          { ports: [{ port: 'nope' }] },
        ],
      },
    ]);
    expect(chainRules(renderPodRuleset(table, ctx(WEB)), 'ingress').slice(3)).toEqual([
      'ip saddr { 10.244.0.3, 10.244.1.3 } tcp dport 8080 accept',
      'ip saddr { 10.244.0.3, 10.244.1.3 } udp dport 9000-9010 accept',
      'ip saddr 10.0.0.0/8 ip saddr != 10.244.1.0/24 accept',
      'drop',
    ]);
  });

  it('egress resolves named ports per destination pod, lets ClusterIPs go to the node, and decides DNS by the kube-dns peer', () => {
    const egressOnly = { podSelector: { matchLabels: { app: 'front' } }, policyTypes: ['Egress'] };
    const toApi = { ...egressOnly, egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 'http' }] }] };
    const text = renderPodRuleset(tableOf([toApi]), ctx(FRONT));
    // Denied egress is marked, and dropped on the way out of the pod's interface (the sender sees no EPERM).
    expect(text).toContain(
      'table netdev aks-emu-netpol {\n\tchain egress {\n\t\ttype filter hook egress device "eth0" priority filter; policy accept;\n\t\tmeta mark 0x00006e70 drop',
    );
    const rules = chainRules(text, 'egress');
    expect(rules).toEqual([
      'ct state established,related accept',
      'oifname "lo" accept',
      'ip daddr 10.244.0.3 tcp dport 3000 accept',
      'ip daddr 10.244.1.3 tcp dport 3001 accept',
      'ip daddr != 10.0.0.10 ip daddr 10.0.0.0/16 accept',
      'meta mark set 0x00006e70',
    ]);
    const dnsAllowed = {
      ...egressOnly,
      egress: [
        {
          to: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
          ],
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 'dns-tcp', protocol: 'TCP' },
          ],
        },
      ],
    };
    const dnsTable = tableOf([dnsAllowed]);
    expect(chainRules(renderPodRuleset(dnsTable, ctx(FRONT)), 'egress').slice(2, 4)).toEqual([
      'ip daddr 10.0.0.10 udp dport 53 accept',
      'ip daddr 10.0.0.10 tcp dport 53 accept',
    ]);
    // The same decision the user-space evaluator makes for the cluster DNS address.
    expect(evaluateFlow(dnsTable, { source: FRONT, destination: DNS, port: 53, protocol: 'UDP' }).verdict).toBe('allow');
    expect(evaluateFlow(tableOf([toApi]), { source: FRONT, destination: DNS, port: 53, protocol: 'UDP' }).verdict).toBe('drop');
  });

  it('a rule whose peers select no pod renders nothing (matches nothing), unlike a rule without peers', () => {
    const table = tableOf([
      { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'none' } } }] }, { ports: [{ port: 8080 }] }] },
    ]);
    expect(chainRules(renderPodRuleset(table, ctx(WEB)), 'ingress').slice(3)).toEqual(['tcp dport 8080 accept', 'drop']);
  });

  // nft --check parses the text and asks the kernel to validate it without committing anything.
  const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  it.skipIf(nft.status !== 0 || process.getuid?.() !== 0)('renders text nft accepts', () => {
    const table = tableOf([
      {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'api' } } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }],
            ports: [{ port: 'http' }, { protocol: 'SCTP' }],
          },
        ],
        egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'http' }, { port: 53, protocol: 'UDP' }] }, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }],
      },
    ]);
    for (const ip of [WEB, FRONT]) {
      // A netdev chain needs an existing device: this namespace may have nothing but lo.
      const check = spawnSync('nft', ['--check', '-f', '-'], { input: renderPodRuleset(table, { ...ctx(ip), device: 'lo' }), encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });
});
