/**
 * kube-proxy's nftables mode for one node, from one snapshot: which Service ports this
 * node forwards in the kernel and which stay on aks-emu's user-space path (a discriminated
 * union per Service port, with the reason), and the `nft -f` text of the table
 * `ip aks-emu-kube-proxy` that forwards the kernel ones. The text deletes and re-creates
 * the table in one transaction, so a change never leaves the node half-programmed;
 * established flows keep their translation (conntrack), as they do when kube-proxy syncs.
 *
 * The shape is kube-proxy's (pkg/proxy/nftables), kept small:
 *
 * - nat prerouting: `ip daddr . meta l4proto . th dport vmap @service-ips` sends a
 *   ClusterIP to its `cluster-…` chain; `ip daddr <node> meta l4proto . th dport vmap
 *   @service-nodeports` sends this node's NodePorts to their `external-…` chain. The LB's
 *   health probes (their source address) are not translated: aks-emu still answers them
 *   (and every healthCheckNodePort, never in these maps), as it does for the user-space path.
 * - `cluster-…`: clients outside the pod CIDR (the toolbox, a node) are marked for
 *   masquerade (kube-proxy's `--cluster-cidr` rule), then the endpoints (internalTrafficPolicy
 *   Local: this node's only; none: drop).
 * - `external-…`: externalTrafficPolicy Cluster marks for masquerade and uses every endpoint;
 *   Local keeps the client's address and uses this node's endpoints, drops when there is
 *   none (the client times out), and gives pod clients Cluster routing.
 * - `service-…` / `local-…`: affinity (ClientIP: a set per endpoint with the scaled
 *   timeout, refreshed by each new flow), then `numgen inc` (round-robin) or `numgen random`
 *   (random), as the snapshot's endpointSelection says, `mod N` into a verdict map.
 * - `endpoint-…`: hairpin and same-bridge flows marked for masquerade (a pod on this node's
 *   Docker bridge would answer another pod of the bridge directly, past the node's
 *   conntrack), then a counted DNAT to pod IP:targetPort.
 * - a port with no usable endpoint is rejected in the filter input hook (TCP reset, counted
 *   in a `reject-…` chain of its own), as kube-proxy rejects; postrouting masquerades what was marked; flows delivered to a pod
 *   in the node's own process are SNATed to the node address in the nat input hook (a
 *   masquerade for local delivery).
 *
 * Only TCP is forwarded, as on the user-space path (UDP and SCTP Services are kept in the
 * snapshot but not forwarded). Pure: snapshot and facts in, text out.
 */
import { createHash } from 'node:crypto';

import type { Endpoint, NodeInfo, ServiceInfo, ServicePortInfo, Snapshot } from './snapshot.js';

export const KUBE_PROXY_NFT_TABLE = 'aks-emu-kube-proxy';
/** kube-proxy's masquerade bit (--masquerade-bit 14). */
export const MASQUERADE_MARK = '0x00004000';

export type ProxyMode = 'nftables' | 'userspace';

/** Why a Service port stays on the user-space path. */
export type UserSpaceReason =
  /** The node runs kube-proxy in user space (AKS_EMU_PROXY_MODE=userspace). */
  | 'mode'
  /** The node is stopped: its listeners are closed, so nothing may be translated either. */
  | 'node-stopped'
  /** A fault on this node, the Service port (service or nodeport hop) or one of its endpoints: faults act in user space. */
  | 'fault'
  /** A NetworkPolicy isolates an endpoint, or some pod for egress: the user-space gate decides with the true client. */
  | 'network-policy';

export type ServicePortPath =
  | { readonly path: 'kernel'; readonly servicePort: string; readonly endpoints: number; readonly localEndpoints: number }
  | { readonly path: 'userspace'; readonly servicePort: string; readonly reason: UserSpaceReason };

export interface KubeProxyNftFacts {
  readonly node: string;
  readonly mode: ProxyMode;
  /** The LB's probe source: its probes stay on the user-space path. */
  readonly probeSource?: string;
  /** Runtime faults at this node's hops (the runtime reads its fault table). */
  readonly faults?: {
    readonly node: boolean;
    /** `ns/name:port` with a fault at the service or nodeport hop. */
    readonly servicePorts: ReadonlySet<string>;
    readonly podIPs: ReadonlySet<string>;
  };
}

export interface KubeProxyNft {
  readonly paths: readonly ServicePortPath[];
  /** `nft -f` text: the whole table, or only its removal when no port is in the kernel. */
  readonly ruleset: string;
  /** What each counted rule of the table counts, by `counterKey(chain, comment)`. */
  readonly counters: ReadonlyMap<string, KernelCounterRef>;
}

/**
 * What one counter of a kernel table counts. DNAT and reject rules see a flow's first
 * packet only (nat chains see no other; the reject answers the SYN with a reset), so their
 * packets are connections; a drop sees every SYN the client retries, so its packets are not.
 */
export type KernelCounterRef =
  /** kube-proxy sent a connection to an endpoint (`ns/name`, the port's name, `ip:port`). */
  | {
      readonly kind: 'endpoint';
      readonly node: string;
      readonly service: string;
      readonly port: string;
      readonly endpoint: string;
      readonly pod: string | undefined;
      readonly podNode: string | undefined;
    }
  /** A Service port without endpoints reset the connection. */
  | { readonly kind: 'no-endpoints'; readonly node: string; readonly service: string; readonly port: string }
  /** Local traffic policy without an endpoint on this node: SYNs dropped. */
  | { readonly kind: 'local-drop'; readonly node: string; readonly service: string; readonly port: string }
  /** The LB sent a flow of a rule to a node. */
  | { readonly kind: 'lb-backend'; readonly loadBalancer: string; readonly rule: string; readonly servicePort: string; readonly node: string }
  /** The LB dropped a SYN: outside loadBalancerSourceRanges, or no node up. */
  | {
      readonly kind: 'lb-drop';
      readonly loadBalancer: string;
      readonly rule: string;
      readonly servicePort: string;
      readonly reason: 'source_range' | 'no_healthy_backend';
    };

/** The key of a counted rule as `nft -j list` shows it: its chain and its comment. */
export function counterKey(chain: string, comment: string | undefined): string {
  return comment === undefined ? chain : `${chain}|${comment}`;
}

interface KernelPort {
  readonly key: string;
  readonly id: string;
  readonly service: ServiceInfo;
  readonly port: ServicePortInfo;
  readonly usable: readonly Endpoint[];
  readonly local: readonly Endpoint[];
}

const isProxied = (s: ServiceInfo): boolean => s.type !== 'ExternalName' && s.clusterIP !== 'None' && s.clusterIP !== '';

/** A short, stable chain id per Service port (kube-proxy hashes its chain names too). */
function portId(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 10).replace(/[-_]/g, 'x');
}

/** The per-port decision of this node. */
export function servicePortPaths(snapshot: Snapshot, facts: KubeProxyNftFacts): ServicePortPath[] {
  return kernelPlan(snapshot, facts).paths;
}

function kernelPlan(snapshot: Snapshot, facts: KubeProxyNftFacts): { paths: ServicePortPath[]; kernel: KernelPort[]; node: NodeInfo | undefined } {
  const node = snapshot.nodes.find((n) => n.name === facts.node);
  const endpointsByService = new Map(snapshot.endpoints.map((e) => [e.serviceKey, e]));
  const policy = snapshot.networkPolicy;
  const anyEgress = policy !== undefined && Object.values(policy.pods).some((p) => p.egress.length > 0);
  const paths: ServicePortPath[] = [];
  const kernel: KernelPort[] = [];
  for (const service of snapshot.services) {
    if (!isProxied(service)) continue;
    const serviceKey = `${service.namespace}/${service.name}`;
    for (const port of service.ports) {
      if (port.protocol !== 'TCP') continue;
      const key = `${serviceKey}:${port.name}`;
      const usable = endpointsByService.get(serviceKey)?.ports.find((p) => p.name === port.name)?.usable ?? [];
      const reason = userSpaceReason(facts, node, key, usable, anyEgress, policy?.pods);
      if (reason !== undefined) {
        paths.push({ path: 'userspace', servicePort: key, reason });
        continue;
      }
      const local = usable.filter((e) => e.nodeName === facts.node);
      paths.push({ path: 'kernel', servicePort: key, endpoints: usable.length, localEndpoints: local.length });
      kernel.push({ key, id: portId(key), service, port, usable, local });
    }
  }
  return { paths, kernel, node };
}

function userSpaceReason(
  facts: KubeProxyNftFacts,
  node: NodeInfo | undefined,
  key: string,
  usable: readonly Endpoint[],
  anyEgress: boolean,
  policyPods: NonNullable<Snapshot['networkPolicy']>['pods'] | undefined,
): UserSpaceReason | undefined {
  if (facts.mode === 'userspace') return 'mode';
  if (node === undefined || !node.running) return 'node-stopped';
  const faults = facts.faults;
  if (faults !== undefined && (faults.node || faults.servicePorts.has(key) || usable.some((e) => faults.podIPs.has(e.ip)))) return 'fault';
  if (anyEgress || usable.some((e) => (policyPods?.[e.ip]?.ingress.length ?? 0) > 0)) return 'network-policy';
  return undefined;
}

/** The plan and the table's text for this node. */
export function renderKubeProxyNft(snapshot: Snapshot, facts: KubeProxyNftFacts): KubeProxyNft {
  const { paths, kernel, node } = kernelPlan(snapshot, facts);
  const head = [`add table ip ${KUBE_PROXY_NFT_TABLE}`, `delete table ip ${KUBE_PROXY_NFT_TABLE}`];
  const counters = new Map<string, KernelCounterRef>();
  if (kernel.length === 0 || node === undefined) return { paths, ruleset: `${head.join('\n')}\n`, counters };
  return { paths, ruleset: `${[...head, ...tableLines(snapshot, node, kernel, facts, counters)].join('\n')}\n`, counters };
}

function tableLines(
  snapshot: Snapshot,
  node: NodeInfo,
  ports: readonly KernelPort[],
  facts: KubeProxyNftFacts,
  counters: Map<string, KernelCounterRef>,
): string[] {
  const { podCIDR } = snapshot.settings.addresses;
  // Pods of this node on its Docker bridge: a flow to one of them from the bridge must come back through the node.
  const bridged = new Set(snapshot.pods.filter((p) => p.nodeName === node.name && p.ip !== '' && p.runtime.kind === 'container').map((p) => p.ip));
  const numgen = snapshot.settings.endpointSelection === 'random' ? 'random' : 'inc';
  const notProbe = facts.probeSource === undefined ? '' : `ip saddr != ${facts.probeSource} `;
  const serviceIPs: string[] = [];
  const nodePorts: string[] = [];
  const noEndpoints: string[] = [];
  const chains: string[] = [];
  const sets: string[] = [];

  const serviceOf = (p: KernelPort) => ({ node: node.name, service: `${p.service.namespace}/${p.service.name}`, port: p.port.name });
  const endpointChain = (p: KernelPort, e: Endpoint, i: number): string => {
    const name = `endpoint-${p.id}-${i}`;
    const comment = `${p.key} -> ${e.ip}:${e.port}`;
    const pod = e.podName === undefined ? undefined : `${e.podNamespace ?? ''}/${e.podName}`;
    counters.set(counterKey(name, comment), { kind: 'endpoint', ...serviceOf(p), endpoint: `${e.ip}:${e.port}`, pod, podNode: e.nodeName });
    const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
    if (bridged.has(e.ip)) rules.push(`ip saddr ${node.podCIDR} jump mark-for-masquerade`);
    if (p.service.sessionAffinity === 'ClientIP') rules.push(`update @affinity-${p.id}-${i} { ip saddr }`);
    rules.push(`counter meta l4proto tcp dnat to ${e.ip}:${e.port} comment "${comment}"`);
    chains.push(chain(name, rules));
    return name;
  };
  /** The endpoint choice over `endpoints` (indices into p.usable keep each endpoint's chain and affinity set). */
  const choiceChain = (p: KernelPort, name: string, endpoints: readonly Endpoint[]): string => {
    const rules: string[] = [];
    const targets = endpoints.map((e) => p.usable.indexOf(e));
    if (p.service.sessionAffinity === 'ClientIP') for (const i of targets) rules.push(`ip saddr @affinity-${p.id}-${i} goto endpoint-${p.id}-${i}`);
    if (targets.length === 0) {
      rules.push('counter drop');
      counters.set(name, { kind: 'local-drop', ...serviceOf(p) });
    } else rules.push(`numgen ${numgen} mod ${targets.length} vmap { ${targets.map((t, n) => `${n} : goto endpoint-${p.id}-${t}`).join(', ')} }`);
    chains.push(chain(name, rules));
    return name;
  };

  for (const p of ports) {
    const { service, port } = p;
    const nodePort = port.nodePort !== undefined && service.type !== 'ClusterIP' ? port.nodePort : undefined;
    if (p.usable.length === 0) {
      noEndpoints.push(`${service.clusterIP} . tcp . ${port.port} : goto reject-${p.id}`);
      if (nodePort !== undefined) noEndpoints.push(`${node.address} . tcp . ${nodePort} : goto reject-${p.id}`);
      chains.push(chain(`reject-${p.id}`, ['counter reject with tcp reset']));
      counters.set(`reject-${p.id}`, { kind: 'no-endpoints', ...serviceOf(p) });
      continue;
    }
    p.usable.forEach((e, i) => {
      if (service.sessionAffinity === 'ClientIP')
        sets.push(affinitySet(`affinity-${p.id}-${i}`, service.sessionAffinityTimeoutSeconds * 1000 * snapshot.settings.timeScale));
      endpointChain(p, e, i);
    });
    const all = choiceChain(p, `service-${p.id}`, p.usable);
    const needsLocal = service.internalTrafficPolicy === 'Local' || (nodePort !== undefined && service.externalTrafficPolicy === 'Local');
    const local = needsLocal ? choiceChain(p, `local-${p.id}`, p.local) : all;
    chains.push(
      chain(`cluster-${p.id}`, [`ip saddr != ${podCIDR} jump mark-for-masquerade`, `goto ${service.internalTrafficPolicy === 'Local' ? local : all}`]),
    );
    serviceIPs.push(`${service.clusterIP} . tcp . ${port.port} : goto cluster-${p.id}`);
    if (nodePort === undefined) continue;
    chains.push(
      chain(
        `external-${p.id}`,
        service.externalTrafficPolicy === 'Cluster' ? ['jump mark-for-masquerade', `goto ${all}`] : [`ip saddr ${podCIDR} goto ${all}`, `goto ${local}`],
      ),
    );
    nodePorts.push(`tcp . ${nodePort} : goto external-${p.id}`);
  }

  const map = (name: string, type: string, elements: readonly string[]) =>
    elements.length === 0
      ? [`\tmap ${name} { type ${type} : verdict; }`]
      : [`\tmap ${name} {`, `\t\ttype ${type} : verdict`, `\t\telements = { ${elements.join(', ')} }`, '\t}'];
  return [
    `table ip ${KUBE_PROXY_NFT_TABLE} {`,
    `\tcomment "kube-proxy (nftables mode) of node ${node.name}, snapshot ${snapshot.version}"`,
    ...map('service-ips', 'ipv4_addr . inet_proto . inet_service', serviceIPs),
    ...map('service-nodeports', 'inet_proto . inet_service', nodePorts),
    ...map('no-endpoint-services', 'ipv4_addr . inet_proto . inet_service', noEndpoints),
    ...sets,
    chain('nat-prerouting', [
      'type nat hook prerouting priority dstnat; policy accept;',
      'ip daddr . meta l4proto . th dport vmap @service-ips',
      `${notProbe}ip daddr ${node.address} meta l4proto . th dport vmap @service-nodeports`,
    ]),
    chain('filter-input', [
      'type filter hook input priority filter - 10; policy accept;',
      'ct state new meta l4proto tcp ip daddr . meta l4proto . th dport vmap @no-endpoint-services',
    ]),
    chain('nat-postrouting', [
      'type nat hook postrouting priority srcnat; policy accept;',
      `meta mark & ${MASQUERADE_MARK} == 0 return`,
      `meta mark set meta mark ^ ${MASQUERADE_MARK}`,
      'counter masquerade fully-random',
    ]),
    chain('nat-input', [
      'type nat hook input priority 100; policy accept;',
      `meta mark & ${MASQUERADE_MARK} == 0 return`,
      `meta mark set meta mark ^ ${MASQUERADE_MARK}`,
      `counter snat to ${node.address}`,
    ]),
    chain('mark-for-masquerade', [`meta mark set meta mark | ${MASQUERADE_MARK}`]),
    ...chains,
    '}',
  ];
}

function chain(name: string, rules: readonly string[]): string {
  return [`\tchain ${name} {`, ...rules.map((r) => `\t\t${r}`), '\t}'].join('\n');
}

function affinitySet(name: string, timeoutMs: number): string {
  return [`\tset ${name} {`, '\t\ttype ipv4_addr', '\t\tflags dynamic,timeout', `\t\ttimeout ${Math.max(1, Math.round(timeoutMs))}ms`, '\t}'].join('\n');
}
