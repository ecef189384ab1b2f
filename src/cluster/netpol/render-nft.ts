/**
 * NetworkPolicy as nftables rules in one pod's own network namespace, as Azure NPM and
 * Calico program the kernel: the same compiled table the user-space gate reads
 * (evaluate.ts), rendered for one pod into an `nft -f` ruleset that replaces the table
 * `inet aks-emu-netpol` whole in one transaction (create, delete, add), so a change never
 * leaves the pod half-programmed. Connections already established keep going (conntrack),
 * as policies act on new connections in Kubernetes.
 *
 * - ingress (hook input), when a policy isolates the pod for Ingress: established and
 *   related, loopback, the nodes' addresses (kubelet's probes come from the pod's own node;
 *   kube-proxy and the L7 proxies deliver from a node address, after the user-space gate
 *   has decided the flow by its true client), then each rule's peers × ports; the rest is
 *   dropped (no reject: the client's connect times out);
 * - egress (hook output), when a policy isolates the pod for Egress: established and
 *   related, loopback, each rule's peers × ports, then the service CIDR except the cluster
 *   DNS address (a ClusterIP leaves the pod as its destination; the node's kube-proxy
 *   decides it with the pod's identity); the rest is marked, and a netdev egress chain on the
 *   pod's interface drops what is marked. A drop in the output hook itself would fail the
 *   sender's sendto/connect with EPERM at once; on AKS the packet is dropped outside the
 *   pod (Azure NPM, Cilium), so the client times out, and so it does here. The cluster DNS
 *   is decided by the rules like any peer: the table holds it as CoreDNS's stand-in
 *   (cluster-dns.ts).
 *
 * A pod that is not isolated gets the table with accepting chains: its conntrack is on from
 * the first packet, so connections opened before a later policy stay established.
 * Named ports resolve against the destination pod (this pod for ingress; each peer pod for
 * egress), as evaluate.ts resolves them. Pure: text in, text out.
 */
import type { NetworkPolicyPort } from '../../model/network-policy.js';
import { cidrContains, formatIPv4, parseCIDR, type CIDR } from '../../manifests/ip.js';
import type { CompiledPeer, CompiledRule, NetworkPolicyTable, PolicyPod } from './table.js';

export const NFT_TABLE = 'aks-emu-netpol';
/** The packet mark of egress the policy denies ("np"); the netdev egress chain drops it. */
export const EGRESS_DROP_MARK = '0x00006e70';

export interface PodFirewallContext {
  /** The pod whose namespace the rules go into. */
  readonly podIP: string;
  /** The pod's node's own address on the pod network (the pods' gateway), a node address too. */
  readonly gateway?: string;
  /** ClusterIPs leave the pod towards its node, which decides them (see above). */
  readonly serviceCIDR: string;
  /** The pod's interface, where denied egress is dropped (default eth0, the sandbox's one network). */
  readonly device?: string;
}

type Direction = 'ingress' | 'egress';

/** `ip saddr { ... }`-style match of the peer side, '' for every address; undefined: matches nothing. */
type AddressMatch = string | undefined;

const nftProtocol = (p: NetworkPolicyPort['protocol']): string => p.toLowerCase();

const cidrText = (c: CIDR): string => `${formatIPv4(c.base)}/${c.bits}`;

function set(items: readonly string[]): string {
  const unique = [...new Set(items)].sort(compareAddresses);
  return unique.length === 1 ? unique[0]! : `{ ${unique.join(', ')} }`;
}

function compareAddresses(a: string, b: string): number {
  const key = (s: string) =>
    s
      .split(/[./]/)
      .map((n) => n.padStart(3, '0'))
      .join('.');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

function addressMatch(peer: CompiledPeer, field: 'saddr' | 'daddr'): AddressMatch {
  if (peer.kind === 'pods') return peer.ips.length === 0 ? undefined : `ip ${field} ${set(peer.ips)}`;
  // An IPv6 block never matches (evaluate.ts): every address aks-emu hands out is IPv4.
  const cidr = parseCIDR(peer.cidr);
  if (cidr === undefined) return undefined;
  const except = peer.except.flatMap((e) => {
    const parsed = parseCIDR(e);
    return parsed === undefined ? [] : [cidrText(parsed)];
  });
  return `ip ${field} ${cidrText(cidr)}${except.length === 0 ? '' : ` ip ${field} != ${set(except)}`}`;
}

/** A numeric port (or range, or a whole protocol) as an nft match. */
function numericPortMatch(p: NetworkPolicyPort & { readonly port?: number }): string {
  const proto = nftProtocol(p.protocol);
  if (p.port === undefined) return `meta l4proto ${proto}`;
  return `${proto} dport ${p.endPort === undefined ? p.port : `${p.port}-${p.endPort}`}`;
}

/** The named port `p` on `pod` as an nft match, or undefined when the pod has no such port of that protocol. */
function namedPortMatch(p: NetworkPolicyPort, name: string, pod: PolicyPod | undefined): string | undefined {
  const named = pod?.namedPorts[name];
  if (named === undefined || named.protocol !== p.protocol) return undefined;
  return `${nftProtocol(p.protocol)} dport ${named.port}`;
}

const isNumeric = (p: NetworkPolicyPort): p is NetworkPolicyPort & { readonly port?: number } => typeof p.port !== 'string';

/** The accept lines of one ingress rule of the pod `self`. */
function ingressLines(rule: CompiledRule, self: PolicyPod): string[] {
  const matches = rule.anyPeer ? [''] : rule.peers.map((p) => addressMatch(p, 'saddr')).filter((m): m is string => m !== undefined);
  const ports: string[] =
    rule.ports.length === 0 ? [''] : rule.ports.flatMap((p) => (isNumeric(p) ? [numericPortMatch(p)] : (namedPortMatch(p, p.port as string, self) ?? [])));
  return matches.flatMap((m) => ports.map((port) => acceptLine(m, port)));
}

/** Egress lines depend on the rule and its table only (not on the pod): made once per rule of a table. */
const egressCache = new WeakMap<CompiledRule, readonly string[]>();

function cachedEgressLines(rule: CompiledRule, table: NetworkPolicyTable): readonly string[] {
  let lines = egressCache.get(rule);
  if (lines === undefined) egressCache.set(rule, (lines = egressLines(rule, table)));
  return lines;
}

/** The accept lines of one egress rule: named ports resolve per destination pod. */
function egressLines(rule: CompiledRule, table: NetworkPolicyTable): string[] {
  const matches = rule.anyPeer ? [''] : rule.peers.map((p) => addressMatch(p, 'daddr')).filter((m): m is string => m !== undefined);
  if (rule.ports.length === 0) return matches.map((m) => acceptLine(m, ''));
  const lines = matches.flatMap((m) => rule.ports.filter(isNumeric).map((p) => acceptLine(m, numericPortMatch(p))));
  const named = rule.ports.filter((p) => !isNumeric(p));
  if (named.length === 0) return lines;
  // The destinations the rule's peers select, each with the port its names resolve to there.
  const peers = rule.peers.map(peerTest);
  const destinations = Object.keys(table.pods).filter((ip) => rule.anyPeer || peers.some((has) => has(ip)));
  const byPort = new Map<string, string[]>();
  for (const p of named) {
    for (const ip of destinations) {
      const match = namedPortMatch(p, p.port as string, table.pods[ip]);
      if (match !== undefined) byPort.set(match, [...(byPort.get(match) ?? []), ip]);
    }
  }
  for (const [port, ips] of [...byPort].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(acceptLine(`ip daddr ${set(ips)}`, port));
  return lines;
}

/** Whether an address is one of the peer's. */
function peerTest(peer: CompiledPeer): (ip: string) => boolean {
  if (peer.kind === 'pods') {
    const ips = new Set(peer.ips);
    return (ip) => ips.has(ip);
  }
  const cidr = parseCIDR(peer.cidr);
  const except = peer.except.flatMap((e) => parseCIDR(e) ?? []);
  return (ip) => cidr !== undefined && cidrContains(cidr, ip) && !except.some((e) => cidrContains(e, ip));
}

const acceptLine = (match: string, port: string): string => [match, port, 'accept'].filter((s) => s !== '').join(' ');

function policyKeys(table: NetworkPolicyTable, indices: readonly number[]): string {
  return indices.map((i) => table.policies[i]!.key).join(', ');
}

function chain(name: Direction, hook: 'input' | 'output', isolatedBy: string | undefined, body: readonly string[]): string[] {
  const head = [`\tchain ${name} {`, `\t\ttype filter hook ${hook} priority filter; policy accept;`, '\t\tct state established,related accept'];
  if (isolatedBy === undefined) return [...head, `\t\t# not isolated for ${name === 'ingress' ? 'Ingress' : 'Egress'}`, '\t}'];
  const deny = name === 'ingress' ? 'drop' : `meta mark set ${EGRESS_DROP_MARK}`;
  return [...head, `\t\t# isolated for ${name === 'ingress' ? 'Ingress' : 'Egress'} by ${isolatedBy}`, ...body.map((l) => `\t\t${l}`), `\t\t${deny}`, '\t}'];
}

/** The netdev table that drops marked egress on the pod's interface (only while egress is isolated). */
function egressDrop(device: string, isolated: boolean): string[] {
  const replace = [`table netdev ${NFT_TABLE}`, `delete table netdev ${NFT_TABLE}`];
  if (!isolated) return replace;
  return [
    ...replace,
    `table netdev ${NFT_TABLE} {`,
    '\tchain egress {',
    `\t\ttype filter hook egress device "${device}" priority filter; policy accept;`,
    `\t\tmeta mark ${EGRESS_DROP_MARK} drop`,
    '\t}',
    '}',
  ];
}

/** The `nft -f` text that programs the pod's own namespace for the table (none: no policy in the cluster). */
export function renderPodRuleset(table: NetworkPolicyTable | undefined, ctx: PodFirewallContext): string {
  const self = table?.pods[ctx.podIP];
  const header = `# aks-emu NetworkPolicy of ${self === undefined ? 'pod' : `pod ${self.key}`} ${ctx.podIP}`;
  let ingress: string[] = chain('ingress', 'input', undefined, []);
  let egress: string[] = chain('egress', 'output', undefined, []);
  if (table !== undefined && self !== undefined) {
    if (self.ingress.length > 0) {
      const nodes = [...table.nodeAddresses, ...(ctx.gateway === undefined ? [] : [ctx.gateway])].filter((a) => a !== '');
      const body = [
        'iifname "lo" accept',
        '# the nodes: kubelet probes; kube-proxy and the L7 proxies deliver from a node after deciding in user space',
        ...(nodes.length === 0 ? [] : [`ip saddr ${set(nodes)} accept`]),
      ];
      for (const i of self.ingress) {
        const policy = table.policies[i]!;
        policy.ingress.forEach((rule, r) => {
          const lines = ingressLines(rule, self);
          if (lines.length > 0) body.push(`# ${policy.key} ingress rule ${r}`, ...lines);
        });
      }
      ingress = chain('ingress', 'input', policyKeys(table, self.ingress), body);
    }
    if (self.egress.length > 0) {
      const body = ['oifname "lo" accept'];
      for (const i of self.egress) {
        const policy = table.policies[i]!;
        policy.egress.forEach((rule, r) => {
          const lines = cachedEgressLines(rule, table);
          if (lines.length > 0) body.push(`# ${policy.key} egress rule ${r}`, ...lines);
        });
      }
      const service = parseCIDR(ctx.serviceCIDR);
      if (service !== undefined) {
        body.push(
          '# ClusterIPs: the node decides them with this pod as the source',
          `${table.clusterDns === undefined ? '' : `ip daddr != ${table.clusterDns} `}ip daddr ${cidrText(service)} accept`,
        );
      }
      egress = chain('egress', 'output', policyKeys(table, self.egress), body);
    }
  }
  const egressIsolated = table !== undefined && self !== undefined && self.egress.length > 0;
  return [
    header,
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    ...ingress,
    ...egress,
    '}',
    ...egressDrop(ctx.device ?? 'eth0', egressIsolated),
    '',
  ].join('\n');
}
