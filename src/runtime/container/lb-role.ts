/**
 * `aks-emu role lb`: the Azure Load Balancer as a container on two networks. Public
 * frontend IPs are added to its interface on `public` (ports published on 127.0.0.1),
 * internal ones to its interface on `vnet`, so isolation is the networks' own: a client
 * on `public` cannot reach an internal frontend. It probes the node containers over
 * `vnet` and dials the node it picks at node.address:backendPort; a stopped node
 * container is found out by the probes alone, as a failed VM is on Azure.
 */
import { LB_NFT_TABLE, renderLbNft, type LbRulePath } from '../../cluster/kube-proxy-nft-lb.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { DataPlane } from '../../dataplane/index.js';
import { AksEmuError } from '../../errors/index.js';
import { postJson, SnapshotFollower } from './control-client.js';
import { KernelCounters, kernelObserver } from './kernel-counters.js';
import { faultedServicePorts, NftTableSync, type ProxyMode } from './kernel-proxy.js';
import { KernelTraces, lbFlowLookup } from './kernel-traces.js';
import type { HostNetwork } from './net-setup.js';
import { heartbeatIntervalMs, LB_STATUS_PATH, ROLE_OBSERVE_PORT, type LoadBalancerStatusReport } from './protocol.js';
import { PublishedPorts, publishPlan, type ExplicitPublish } from './published-ports.js';
import { RoleObserve } from './role-observe.js';

/**
 * Where the probes come from: Azure's 168.63.129.16 stands outside the VNet; here the
 * subnet's .3, one of the four addresses Azure keeps for itself, so no node or internal
 * frontend ever gets it and nodes can tell probes from traffic (kube-proxy's probe path).
 */
export function probeSourceAddress(nodeSubnet: string): string {
  const [base] = nodeSubnet.split('/');
  const octets = (base ?? '').split('.');
  octets[3] = String(Number(octets[3] ?? '0') + 3);
  return octets.join('.');
}

export interface LoadBalancerRoleOptions {
  readonly controlUrl: string;
  readonly network: HostNetwork;
  /** Container ports that relay to a chosen frontend (AKS_EMU_PUBLISH); the rest publish on their own port. */
  readonly publish?: readonly ExplicitPublish[];
  readonly log?: (line: string) => void;
  readonly onSynced?: (snapshot: Snapshot) => void;
  /** Where its /metrics and traces are served on its vnet address (ROLE_OBSERVE_PORT; 0 in tests on loopback). */
  readonly observePort?: number;
  /** `nftables`: frontends are DNATed to the nodes the prober holds up in this container's kernel (kube-proxy-nft-lb.ts); default userspace. */
  readonly lbMode?: ProxyMode;
}

interface OwnedAddress {
  readonly address: string;
  readonly network: string;
}

export class LoadBalancerRole {
  readonly #options: LoadBalancerRoleOptions;
  readonly #log: (line: string) => void;
  readonly #follower: SnapshotFollower;
  readonly #owned = new Map<string, OwnedAddress>();
  readonly #observe: RoleObserve;
  #dataPlane: DataPlane | undefined;
  #kernel: NftTableSync<LbRulePath> | undefined;
  #kernelTraces: KernelTraces | undefined;
  #published: PublishedPorts | undefined;
  #reporter: NodeJS.Timeout | undefined;
  #firedReport: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(options: LoadBalancerRoleOptions) {
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#follower = new SnapshotFollower(options.controlUrl, (snapshot) => this.#apply(snapshot), this.#log);
    this.#observe = new RoleObserve(options.controlUrl, this.#log, () => this.#reportFiredSoon());
    this.#observe.onInstalled = () => void this.#kernel?.sync();
  }

  static async start(options: LoadBalancerRoleOptions): Promise<LoadBalancerRole> {
    const role = new LoadBalancerRole(options);
    await options.network.isolate();
    role.#observe.start();
    role.#follower.start();
    return role;
  }

  get snapshot(): Snapshot | undefined {
    return this.#follower.applied;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reporter !== undefined) clearTimeout(this.#reporter);
    if (this.#firedReport !== undefined) clearTimeout(this.#firedReport);
    await this.#follower.stop();
    this.#kernelTraces?.stop();
    await this.#kernel?.stop();
    await Promise.allSettled([this.#dataPlane?.stop(), this.#published?.stop(), this.#observe.stop()]);
  }

  async #apply(snapshot: Snapshot): Promise<void> {
    if (this.#dataPlane === undefined) await this.#setUp(snapshot);
    const wanted = this.#frontendAddresses(snapshot);
    for (const [address, owned] of wanted) {
      if (!this.#owned.has(address)) await this.#options.network.addAddress(address, owned.network);
      this.#owned.set(address, owned);
    }
    await this.#dataPlane!.apply(snapshot);
    this.#observe.applied(snapshot);
    this.#kernelTraces?.use(lbFlowLookup(snapshot));
    await this.#kernel?.sync(snapshot);
    await this.#published!.update(publishPlan(snapshot, { internal: false, explicit: this.#options.publish ?? [] }));
    for (const [address, owned] of this.#owned) {
      if (wanted.has(address)) continue;
      await this.#options.network.removeAddress(address, owned.network);
      this.#owned.delete(address);
    }
    this.#options.onSynced?.(snapshot);
  }

  /** Public frontends live on `public`, internal ones on `vnet` (or their internal subnet, when it is one of this container's). */
  #frontendAddresses(snapshot: Snapshot): Map<string, OwnedAddress> {
    const { nodeSubnet, publicFrontends } = snapshot.settings.addresses;
    const wanted = new Map<string, OwnedAddress>();
    for (const lb of snapshot.loadBalancers) {
      for (const frontend of lb.frontends) wanted.set(frontend.ip, { address: frontend.ip, network: lb.internal ? nodeSubnet : publicFrontends });
    }
    return wanted;
  }

  async #setUp(snapshot: Snapshot): Promise<void> {
    const { network } = this.#options;
    const { nodeSubnet, publicFrontends } = snapshot.settings.addresses;
    // Docker publishes to the address it gave this container; read it before frontends join it.
    const own = network.localAddressIn(publicFrontends);
    const onVnet = network.localAddressIn(nodeSubnet);
    if (own === undefined || onVnet === undefined) {
      throw new AksEmuError('AKS_EMU_PLATFORM', `the lb container must be on the public network (${publicFrontends}) and on vnet (${nodeSubnet})`);
    }
    const probeSource = probeSourceAddress(nodeSubnet);
    await network.addAddress(probeSource, nodeSubnet);
    this.#published = new PublishedPorts(own, undefined, this.#log);
    this.#dataPlane = new DataPlane({
      log: this.#log,
      probeSource,
      roles: { loadBalancer: true, nodes: [], clusterIPs: false, delivery: 'network' },
      traces: this.#observe.observability.traces,
      faults: this.#observe.faults,
    });
    this.#dataPlane.on('error', (err) => this.#log(`data plane: ${err.message}`));
    this.#observe.attach(this.#dataPlane);
    const observeUrl = await this.#observe.listen(onVnet, this.#options.observePort ?? ROLE_OBSERVE_PORT);
    if (this.#options.lbMode === 'nftables') {
      const dataPlane = this.#dataPlane;
      const counters = new KernelCounters(LB_NFT_TABLE, () => dataPlane.counters());
      this.#kernel = this.#kernelTable(dataPlane, counters);
      this.#observe.kernel = kernelObserver(this.#kernel, counters);
      this.#kernelTraces = new KernelTraces(this.#observe.observability.traces, () => dataPlane.counters(), this.#log);
      this.#kernelTraces.start();
    }
    this.#dataPlane.on('probe', (t) => {
      void this.#kernel?.sync();
      this.#observe.observability.probeTransitions.record(t);
      this.#log(`probe ${t.loadBalancer}/${t.probe}: node ${t.node} is ${t.state}${t.from === 'unknown' ? ' (first answer)' : ''} (${t.detail})`);
      void this.#report();
    });
    this.#log(`lb: published ports relay on ${own}, probes from ${probeSource}, metrics and traces at ${observeUrl}`);
    void this.#report(heartbeatIntervalMs(snapshot.settings.timeScale));
  }

  /** The frontends in the kernel, following the prober's states and the faults. */
  #kernelTable(dataPlane: DataPlane, counters: KernelCounters): NftTableSync<LbRulePath> {
    const faults = this.#observe.faults;
    const up = (loadBalancer: string, probe: string): string[] =>
      dataPlane
        .probeStatus()
        .filter((p) => p.loadBalancer === loadBalancer && p.probe === probe && p.state === 'up')
        .map((p) => p.node);
    return new NftTableSync<LbRulePath>({
      what: 'lb nftables',
      render: (snapshot) =>
        renderLbNft(snapshot, {
          mode: 'nftables',
          up,
          ...(faults.table === undefined ? {} : { faults: { nodes: faults.table.nodes.size > 0, servicePorts: faultedServicePorts(faults, ['frontend']) } }),
        }),
      removal: `add table ip ${LB_NFT_TABLE}\ndelete table ip ${LB_NFT_TABLE}\n`,
      describe: (paths) => {
        const kernel = paths.flatMap((p) => (p.path === 'kernel' ? [`${p.rule} -> ${p.nodes.length} up`] : []));
        const user = paths.flatMap((p) => (p.path === 'userspace' ? [`${p.rule} (${p.reason})`] : []));
        return `in the kernel: ${kernel.join(', ') || 'none'}; in user space: ${user.join(', ') || 'none'}`;
      },
      log: this.#log,
      counters,
    });
  }

  /** Probe states go to control on every transition and on every heartbeat interval. */
  async #report(everyMs?: number): Promise<void> {
    if (this.#stopped || this.#dataPlane === undefined) return;
    const report: LoadBalancerStatusReport = { probes: this.#dataPlane.probeStatus(), stats: this.#dataPlane.stats(), ...this.#observe.report() };
    await postJson(this.#options.controlUrl, LB_STATUS_PATH, report).catch((err: Error) => this.#log(`report: ${err.message}`));
    if (everyMs !== undefined && !this.#stopped) this.#reporter = setTimeout(() => void this.#report(everyMs), everyMs);
  }

  /** A fault fired at this lb's hops: control's fault list shows it after one report, not a heartbeat later. */
  #reportFiredSoon(): void {
    if (this.#firedReport !== undefined || this.#stopped) return;
    this.#firedReport = setTimeout(() => {
      this.#firedReport = undefined;
      void this.#report();
    }, 50);
  }
}
