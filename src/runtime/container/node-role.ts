/**
 * `aks-emu role node --name NODE`: one AKS node as a container on the `vnet` network.
 * It serves this node's NodePorts, healthCheckNodePorts and kube-proxy healthz on the
 * node's own address, every ClusterIP VIP (the service CIDR is local here, as kube-proxy
 * makes VIPs local on every node), the cluster DNS at kube-dns's ClusterIP, and the pods
 * scheduled here on their pod IPs (this node's pod /24 is local; other nodes' /24s are
 * routed through them, as the kubenet route table does on AKS).
 */
import { randomUUID } from 'node:crypto';

import { clusterDnsAddress } from '../../cluster/netpol/cluster-dns.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { DataPlane } from '../../dataplane/index.js';
import { AksEmuError } from '../../errors/index.js';
import { cidrContains } from '../../manifests/ip.js';
import { postJson, SnapshotFollower } from './control-client.js';
import { ContainerHost } from './container-host.js';
import { ClusterDnsServer } from '../../dataplane/dns/server.js';
import { KernelCounters, kernelObserver } from './kernel-counters.js';
import { kernelProxy, type NftTableSync, type ProxyMode } from './kernel-proxy.js';
import { KernelTraces, nodeFlowLookup } from './kernel-traces.js';
import { KUBE_PROXY_NFT_TABLE, type ServicePortPath } from '../../cluster/kube-proxy-nft.js';
import type { HostNetwork } from './net-setup.js';
import { NodePods } from './node-pods.js';
import { heartbeatIntervalMs, nodeStatusPath, ROLE_OBSERVE_PORT, type NodeStatusReply, type NodeStatusReport } from './protocol.js';
import { RoleObserve } from './role-observe.js';

export interface NodeRoleOptions {
  readonly name: string;
  readonly controlUrl: string;
  readonly network: HostNetwork;
  /** Where the lb's health probes come from (see lb-role.ts); they do not move round robin. */
  readonly probeSource: string;
  /** 53 in a container; tests on loopback pass 0. */
  readonly dnsPort?: number;
  readonly log?: (line: string) => void;
  /** The image of each container pod's sandbox (this node's own); container pods need it. */
  readonly sandboxImage?: string;
  /** Called after each snapshot is in force (the container's healthcheck marker). */
  readonly onSynced?: (snapshot: Snapshot) => void;
  /** Where its /metrics and traces are served on the node's address (ROLE_OBSERVE_PORT; 0 in tests on loopback). */
  readonly observePort?: number;
  /** kube-proxy's mode: `nftables` forwards Service ports in this container's kernel (kernel-proxy.ts); default userspace. */
  readonly proxyMode?: ProxyMode;
}

export { clusterDnsAddress } from '../../cluster/netpol/cluster-dns.js';

export class NodeRole {
  readonly #options: NodeRoleOptions;
  readonly #log: (line: string) => void;
  readonly #bootId = randomUUID();
  readonly #pods: NodePods;
  readonly #follower: SnapshotFollower;
  readonly #observe: RoleObserve;
  #dataPlane: DataPlane | undefined;
  #dns: ClusterDnsServer | undefined;
  #containers: ContainerHost | undefined;
  #kernel: NftTableSync<ServicePortPath> | undefined;
  #kernelTraces: KernelTraces | undefined;
  /** Pod IPs of in-process pods made local one by one while the pod /24 is a Docker network. */
  readonly #localPodIPs = new Set<string>();
  #heartbeat: NodeJS.Timeout | undefined;
  #statusReport: NodeJS.Timeout | undefined;
  #intervalMs = heartbeatIntervalMs(1);
  #stopped = false;

  private constructor(options: NodeRoleOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#pods = new NodePods(options.name);
    this.#pods.on('readiness', (e) => {
      this.#log(`pod ${e.podKey} is ${e.ready ? 'Ready' : 'NotReady'} (${e.reason})`);
      void this.#report();
    });
    this.#pods.on('notice', (line) => this.#log(line));
    this.#pods.on('status', () => this.#reportSoon());
    this.#follower = new SnapshotFollower(options.controlUrl, (snapshot) => this.#apply(snapshot), this.#log);
    this.#observe = new RoleObserve(options.controlUrl, this.#log, () => this.#reportSoon());
    this.#observe.onInstalled = () => void this.#kernel?.sync();
    this.#pods.l7 = { observe: { traces: this.#observe.observability.traces, http: this.#observe.observability.http }, faults: this.#observe.faults };
  }

  /** Isolates the namespace, registers with control (retrying until it answers), then follows its snapshots. */
  static async start(options: NodeRoleOptions): Promise<NodeRole> {
    const role = new NodeRole(options);
    await options.network.isolate();
    await role.#registerFirst();
    role.#observe.start();
    role.#follower.start();
    return role;
  }

  get snapshot(): Snapshot | undefined {
    return this.#follower.applied;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    if (this.#statusReport !== undefined) clearTimeout(this.#statusReport);
    await this.#follower.stop();
    // The table first: nothing may be translated to pods that are stopping.
    this.#kernelTraces?.stop();
    await this.#kernel?.stop();
    await Promise.allSettled([this.#dataPlane?.stop(), this.#dns?.stop(), this.#pods.stop(), this.#observe.stop()]);
    await this.#containers?.close();
  }

  /** How long a stop may take: container pods get their grace period (scaled) before SIGKILL. */
  get stopDeadlineMs(): number {
    return this.#containers === undefined ? 700 : 40_000;
  }

  /** Heartbeats first, so that the first snapshot already counts this node's listeners up. */
  async #registerFirst(): Promise<void> {
    for (let delay = 100; !this.#stopped; delay = Math.min(2_000, delay * 2)) {
      try {
        await this.#report();
        return;
      } catch (err) {
        this.#log(`waiting for control: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #report(): Promise<void> {
    if (this.#stopped) return;
    const report: NodeStatusReport = {
      bootId: this.#bootId,
      podReadiness: this.#pods.readiness(),
      podStatuses: this.#pods.statuses(),
      ...(this.#dataPlane === undefined ? {} : { stats: this.#dataPlane.stats() }),
      ...this.#observe.report(),
    };
    const reply = await postJson<NodeStatusReply>(this.#options.controlUrl, nodeStatusPath(this.#options.name), report);
    this.#intervalMs = reply.heartbeatIntervalMs;
    this.#pods.force(reply.forcedReadiness);
    this.#scheduleHeartbeat();
  }

  /** Container status changes come in bursts (a pod's containers, a reconcile): one report for each burst. */
  #reportSoon(): void {
    if (this.#statusReport !== undefined || this.#stopped) return;
    this.#statusReport = setTimeout(() => {
      this.#statusReport = undefined;
      this.#report().catch((err: Error) => this.#log(`status report: ${err.message}`));
    }, 50);
  }

  #scheduleHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearTimeout(this.#heartbeat);
    if (this.#stopped) return;
    this.#heartbeat = setTimeout(() => {
      this.#heartbeat = undefined;
      this.#report().catch((err: Error) => {
        this.#log(`heartbeat: ${err.message}`);
        this.#scheduleHeartbeat();
      });
    }, this.#intervalMs);
  }

  async #apply(snapshot: Snapshot): Promise<void> {
    const node = snapshot.nodes.find((n) => n.name === this.#options.name);
    if (node === undefined)
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `control has no node "${this.#options.name}" (nodes: ${snapshot.nodes.map((n) => n.name).join(', ')})`);
    if (this.#dataPlane === undefined) await this.#setUp(snapshot);
    if (this.#containers !== undefined) {
      this.#containers.snapshot = snapshot;
      await this.#localInProcessPods(snapshot);
      // Before the pods: running sandboxes get the new rules; new ones start with them.
      await this.#containers.syncFirewalls(snapshot);
    }
    // Pods first: a listener that opens for a new endpoint should find the pod answering.
    await this.#pods.reconcile(snapshot);
    await this.#dataPlane!.apply(snapshot);
    this.#observe.applied(snapshot);
    // The lookup before the table: a flow of the new table's ports finds its Service port.
    this.#kernelTraces?.use(nodeFlowLookup(snapshot, this.#options.name));
    await this.#kernel?.sync(snapshot);
    this.#dns!.update(snapshot);
    this.#options.onSynced?.(snapshot);
  }

  /** In-process pods (echo, ingress controller) bind their IPs here; container pods' IPs are their sandboxes'. */
  async #localInProcessPods(snapshot: Snapshot): Promise<void> {
    const wanted = new Set(snapshot.pods.filter((p) => p.nodeName === this.#options.name && p.ip !== '' && p.runtime.kind !== 'container').map((p) => p.ip));
    for (const ip of wanted) if (!this.#localPodIPs.has(ip)) await this.#options.network.addLocalRange(`${ip}/32`);
    for (const ip of this.#localPodIPs) if (!wanted.has(ip)) await this.#options.network.removeLocalRange(`${ip}/32`);
    this.#localPodIPs.clear();
    for (const ip of wanted) this.#localPodIPs.add(ip);
  }

  async #setUp(snapshot: Snapshot): Promise<void> {
    const { network, name } = this.#options;
    const me = snapshot.nodes.find((n) => n.name === name)!;
    const { serviceCIDR } = snapshot.settings.addresses;
    if (network.localAddressIn(`${me.address}/32`) === undefined) {
      throw new AksEmuError(
        'AKS_EMU_PLATFORM',
        `node ${name} must own its InternalIP ${me.address}: give this container ipv4_address ${me.address} on the vnet network`,
      );
    }
    await network.addLocalRange(serviceCIDR);
    // With a Docker network for its pod /24 (compose), the node is its pods' router at the
    // /24's first address and makes only its in-process pods' IPs local; without one, the
    // whole /24 is local.
    const gateway = network.localAddressIn(me.podCIDR);
    if (gateway !== undefined) {
      this.#containers = await ContainerHost.detect({
        node: name,
        podCIDR: me.podCIDR,
        gateway,
        sandboxImage: this.#options.sandboxImage ?? 'aks-emu:local',
        log: this.#log,
      });
      if (this.#containers !== undefined) this.#pods.containers = this.#containers;
    }
    if (this.#containers === undefined) await network.addLocalRange(me.podCIDR);
    for (const other of snapshot.nodes) if (other.name !== name) await network.route(other.podCIDR, other.address);
    // A container pod's IP belongs to its sandbox, not to this node: flows from it are
    // sent from the node's address instead (the pod sees the node, as behind a masquerade).
    const local = [serviceCIDR, ...(this.#containers === undefined ? [me.podCIDR] : []), `${me.address}/32`, '127.0.0.0/8'];
    this.#dataPlane = new DataPlane({
      log: this.#log,
      probeSource: this.#options.probeSource,
      roles: {
        loadBalancer: false,
        nodes: [name],
        clusterIPs: true,
        delivery: 'network',
        // Clients elsewhere on vnet (the toolbox) reach ClusterIPs through this node.
        gatewayNode: name,
        canSendFrom: (address) => this.#localPodIPs.has(address) || local.some((cidr) => cidrContains(cidr, address)),
      },
      traces: this.#observe.observability.traces,
      faults: this.#observe.faults,
    });
    this.#dataPlane.on('error', (err) => this.#log(`data plane: ${err.message}`));
    this.#observe.attach(this.#dataPlane);
    if ((this.#options.proxyMode ?? 'userspace') === 'nftables') {
      const dataPlane = this.#dataPlane;
      const counters = new KernelCounters(KUBE_PROXY_NFT_TABLE, () => dataPlane.counters());
      this.#kernel = kernelProxy({ node: name, probeSource: this.#options.probeSource, faults: this.#observe.faults, log: this.#log, counters });
      this.#observe.kernel = kernelObserver(this.#kernel, counters);
      this.#kernelTraces = new KernelTraces(this.#observe.observability.traces, () => dataPlane.counters(), this.#log);
      this.#kernelTraces.start();
    }
    await this.#observe.listen(me.address, this.#options.observePort ?? ROLE_OBSERVE_PORT);
    this.#dns = await ClusterDnsServer.start(clusterDnsAddress(serviceCIDR), this.#options.dnsPort ?? 53);
    this.#log(
      `node ${name}: ${me.address}, pods ${me.podCIDR}, ClusterIPs ${serviceCIDR}, DNS ${clusterDnsAddress(serviceCIDR)}:${this.#dns.port}, kube-proxy ${this.#kernel === undefined ? 'userspace' : 'nftables'}`,
    );
  }
}
