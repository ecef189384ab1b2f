/**
 * The Azure LB's frontends in the `lb` container's kernel, beside kube-proxy's table on the
 * nodes (kube-proxy-nft.ts): for each load-balancing rule, `frontend IP . tcp . port` in a
 * verdict map sends a new flow to the rule's chain, which drops clients outside
 * loadBalancerSourceRanges, picks one of the nodes the prober holds up by the rule's
 * distribution (round robin: `numgen inc`; five-tuple, source IP, source IP + protocol:
 * `jhash` of those fields, as Azure hashes them) and DNATs to node:NodePort, masqueraded
 * to the lb's vnet address (the nodes have no route back to the clients, as the user-space
 * lb dials from that address too). No node up: drop, as Azure drops. The rule's idle timeout
 * becomes the conntrack timeout of its established flows (a `ct timeout` object): after it
 * the flow is forgotten and the client's next packet meets a node with no socket (a reset).
 * The table is rebuilt on every snapshot, fault change and probe transition. Pure.
 */
import { counterKey, type KernelCounterRef } from './kube-proxy-nft.js';
import type { LoadBalancingRule, Snapshot } from './snapshot.js';

export const LB_NFT_TABLE = 'aks-emu-lb';
const MASQUERADE = '0x00004000';

export type LbRulePath =
  | { readonly path: 'kernel'; readonly rule: string; readonly nodes: readonly string[] }
  | { readonly path: 'userspace'; readonly rule: string; readonly reason: 'mode' | 'fault' | 'protocol' };

export interface LbNftFacts {
  readonly mode: 'nftables' | 'userspace';
  /** Nodes the prober holds up for a probe of a load balancer (`lb/probe`). */
  readonly up: (loadBalancer: string, probe: string) => readonly string[];
  /** `ns/name:port` with a fault at the frontend hop; node faults (partition, slow) keep every rule in user space. */
  readonly faults?: { readonly nodes: boolean; readonly servicePorts: ReadonlySet<string> };
}

export interface LbNft {
  readonly paths: readonly LbRulePath[];
  readonly ruleset: string;
  /** What each counted rule counts, by `counterKey(chain, comment)`. */
  readonly counters: ReadonlyMap<string, KernelCounterRef>;
}

const choice: Record<LoadBalancingRule['distribution'], string> = {
  'round-robin': 'numgen inc',
  'five-tuple': 'jhash ip saddr . tcp sport . ip daddr . tcp dport',
  'source-ip': 'jhash ip saddr',
  'source-ip-protocol': 'jhash ip saddr . meta l4proto',
};

export function renderLbNft(snapshot: Snapshot, facts: LbNftFacts): LbNft {
  const address = new Map(snapshot.nodes.map((n) => [n.name, n.address]));
  // As the user-space lb delivers (node-delivery.ts): to the Service port's NodePort, which
  // kube-proxy serves on the node; the rule's backendPort (the frontend port, with floating IP) otherwise.
  const nodePorts = new Map(
    snapshot.services.flatMap((s) =>
      s.ports.flatMap((p) => (p.nodePort === undefined ? [] : [[`${s.namespace}/${s.name}:${p.name}` as string, p.nodePort] as const])),
    ),
  );
  const paths: LbRulePath[] = [];
  const frontends: string[] = [];
  const chains: string[] = [];
  const timeouts = new Set<number>();
  const idle: string[] = [];
  const counters = new Map<string, KernelCounterRef>();
  let id = 0;
  for (const lb of snapshot.loadBalancers) {
    for (const rule of lb.rules) {
      const name = `${lb.name}/${rule.name}`;
      const reason =
        facts.mode === 'userspace'
          ? 'mode'
          : rule.protocol !== 'TCP'
            ? 'protocol'
            : facts.faults !== undefined && (facts.faults.nodes || facts.faults.servicePorts.has(`${rule.serviceKey}:${rule.servicePortName}`))
              ? 'fault'
              : undefined;
      if (reason !== undefined) {
        paths.push({ path: 'userspace', rule: name, reason });
        continue;
      }
      const up = new Set(rule.probeName === undefined ? lb.backendPool : facts.up(lb.name, rule.probeName));
      const nodes = lb.backendPool.filter((n) => up.has(n) && address.has(n));
      paths.push({ path: 'kernel', rule: name, nodes });
      const chain = `rule-${id++}`;
      const port = nodePorts.get(`${rule.serviceKey}:${rule.servicePortName}`) ?? rule.backendPort;
      const rules: string[] = [];
      const of = { loadBalancer: lb.name, rule: rule.name, servicePort: `${rule.serviceKey}:${rule.servicePortName}` };
      if (rule.sourceRanges.length > 0) {
        rules.push(`ip saddr != { ${rule.sourceRanges.join(', ')} } counter drop comment "${name}: outside source ranges"`);
        counters.set(counterKey(chain, `${name}: outside source ranges`), { kind: 'lb-drop', ...of, reason: 'source_range' });
      }
      rules.push('meta mark set meta mark | ' + MASQUERADE);
      if (nodes.length === 0) {
        rules.push(`counter drop comment "${name}: no backend up"`);
        counters.set(counterKey(chain, `${name}: no backend up`), { kind: 'lb-drop', ...of, reason: 'no_healthy_backend' });
      } else {
        const targets = nodes.map((n, i) => `${i} : goto ${chain}-${i}`);
        rules.push(`${choice[rule.distribution]} mod ${nodes.length}${rule.distribution === 'round-robin' ? '' : ' seed 0x2a'} vmap { ${targets.join(', ')} }`);
        nodes.forEach((n, i) => {
          chains.push(block(`chain ${chain}-${i}`, [`counter meta l4proto tcp dnat to ${address.get(n)}:${port} comment "${name} -> ${n}"`]));
          counters.set(counterKey(`${chain}-${i}`, `${name} -> ${n}`), { kind: 'lb-backend', ...of, node: n });
        });
      }
      chains.push(block(`chain ${chain}`, rules));
      frontends.push(`${rule.frontendIP} . tcp . ${rule.frontendPort} : goto ${chain}`);
      const seconds = Math.max(1, Math.round(rule.idleTimeoutMinutes * 60 * snapshot.settings.timeScale));
      timeouts.add(seconds);
      idle.push(`ip daddr ${rule.frontendIP} tcp dport ${rule.frontendPort} ct timeout set "idle-${seconds}"`);
    }
  }
  const head = [`add table ip ${LB_NFT_TABLE}`, `delete table ip ${LB_NFT_TABLE}`];
  if (frontends.length === 0) return { paths, ruleset: `${head.join('\n')}\n`, counters };
  const dispatch = 'ip daddr . meta l4proto . th dport vmap @frontends';
  const lines = [
    ...head,
    `table ip ${LB_NFT_TABLE} {`,
    `\tcomment "Azure LB frontends, snapshot ${snapshot.version}"`,
    ...[...timeouts].map((s) => block(`ct timeout idle-${s}`, ['protocol tcp;', 'l3proto ip;', `policy = { established: ${s} }`])),
    `\tmap frontends {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\telements = { ${frontends.join(', ')} }\n\t}`,
    block('chain raw-prerouting', ['type filter hook prerouting priority raw; policy accept;', ...idle]),
    block('chain raw-output', ['type filter hook output priority raw; policy accept;', ...idle]),
    block('chain nat-prerouting', ['type nat hook prerouting priority dstnat; policy accept;', dispatch]),
    // The published-port relays dial frontends from this container: translated the same way.
    block('chain nat-output', ['type nat hook output priority -100; policy accept;', dispatch]),
    block('chain nat-postrouting', [
      'type nat hook postrouting priority srcnat; policy accept;',
      `meta mark & ${MASQUERADE} == 0 return`,
      `meta mark set meta mark ^ ${MASQUERADE}`,
      'counter masquerade',
    ]),
    ...chains,
    '}',
  ];
  return { paths, ruleset: `${lines.join('\n')}\n`, counters };
}

function block(head: string, rules: readonly string[]): string {
  return [`\t${head} {`, ...rules.map((r) => `\t\t${r}`), '\t}'].join('\n');
}
