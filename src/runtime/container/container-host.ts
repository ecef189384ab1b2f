/**
 * A node container's container runtime (its CRI): the Docker engine reached through the
 * socket compose mounts, and the node's pod network, a Docker network with this node's pod
 * /24 on which the node holds the /24's first address (kubenet's cbr0 is the same .1) and
 * routes for its pods. The node makes `container` pods here (src/pods/container-pod.ts)
 * and removes what an earlier run of itself left behind.
 *
 * NetworkPolicy for the pods' own traffic (pod to pod IP, same node or across nodes, TCP and
 * UDP, cluster DNS): each sandbox holds its pod's nftables ruleset (render-nft.ts), loaded as
 * it starts and replaced whole through `docker exec` when the snapshot changes it. A sandbox
 * carries the hash of the ruleset it started with as a label, so a new pod costs no exec.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';

import { renderPodRuleset } from '../../cluster/netpol/render-nft.js';

import type { PodInfo, Snapshot } from '../../cluster/snapshot.js';
import { containerEnv } from '../../pods/process/container-env.js';
import { cidrContains } from '../../manifests/ip.js';
import { CONTAINER_LABEL, ContainerPod, type ContainerLaunch } from '../../pods/container-pod.js';
import { FIREWALL_COMMAND, FIREWALL_ENV } from '../../pods/container-sandbox.js';
import type { ContainerPodFactory, PodKindContext, PodOfKind } from '../../pods/kinds/index.js';
import { podResolvConf } from './toolbox.js';
import { DockerEngine, DOCKER_SOCKET, type ContainerSummary } from './docker-engine.js';

export const NODE_LABEL = 'io.aks-emu.node';
/** `aks-emu role echo` reads the pod it serves from this variable (JSON PodInfo). */
export const ECHO_POD_ENV = 'AKS_EMU_POD';
export const POD_LABEL = 'io.aks-emu.pod';
/** On a sandbox: the hash of the NetworkPolicy ruleset it started with. */
export const NETPOL_LABEL = 'io.aks-emu.netpol';
export { CONTAINER_LABEL, RESTART_LABEL } from '../../pods/container-pod.js';

export interface ContainerHostOptions {
  readonly node: string;
  readonly podCIDR: string;
  /** This node's own address on the pod network. */
  readonly gateway: string;
  /** The image sandboxes run (this node's own: it has sh and ip). */
  readonly sandboxImage: string;
  readonly socketPath?: string;
  readonly log: (line: string) => void;
}

const rulesetHash = (ruleset: string): string => createHash('sha256').update(ruleset).digest('hex').slice(0, 16);

export class ContainerHost implements ContainerPodFactory {
  /** The snapshot in force on this node: Services (for the environment), the service CIDR (DNS), the policies. */
  snapshot: Snapshot | undefined;
  /** Sandbox id → hash of the ruleset last loaded there by syncFirewalls. */
  readonly #firewalls = new Map<string, string>();
  /** Whether the last synced snapshot had policies: a cluster that never had one costs no engine call. */
  #hadPolicies = false;

  private constructor(
    readonly engine: DockerEngine,
    readonly network: string,
    readonly options: ContainerHostOptions,
  ) {}

  /**
   * The host when the engine answers and a network carries this node's pod /24; undefined
   * (with the reason logged) otherwise: the node then runs no `container` pods.
   */
  static async detect(options: ContainerHostOptions): Promise<ContainerHost | undefined> {
    const socketPath = options.socketPath ?? DOCKER_SOCKET;
    if (!existsSync(socketPath)) {
      options.log(`no container engine: ${socketPath} is not mounted; container pods cannot run on this node`);
      return undefined;
    }
    const engine = new DockerEngine(socketPath);
    if (!(await engine.ping())) {
      options.log(`no container engine: ${socketPath} does not answer; container pods cannot run on this node`);
      await engine.close();
      return undefined;
    }
    const networks = await engine.listNetworks();
    const network = networks.find((n) => (n.IPAM.Config ?? []).some((c) => c.Subnet === options.podCIDR));
    if (network === undefined) {
      options.log(`no Docker network has subnet ${options.podCIDR}; container pods cannot run on this node (see docker/README.md)`);
      await engine.close();
      return undefined;
    }
    const host = new ContainerHost(engine, network.Name, options);
    await host.removeLeftovers();
    options.log(`container pods on Docker network ${network.Name} (${options.podCIDR}, gateway ${options.gateway})`);
    return host;
  }

  /** A node that was killed leaves its pods' containers behind; kubelet would adopt them, this node starts afresh. */
  async removeLeftovers(): Promise<void> {
    const left = await this.engine.listContainers({ [NODE_LABEL]: this.options.node });
    for (const c of left) await this.engine.removeContainer(c.Id);
    if (left.length > 0) this.options.log(`removed ${left.length} container(s) an earlier run of this node left`);
  }

  /** The pod's ruleset under the snapshot in force. */
  ruleset(podIP: string, snapshot: Snapshot | undefined = this.snapshot): string {
    const serviceCIDR = snapshot?.settings.addresses.serviceCIDR ?? '10.0.0.0/16';
    return renderPodRuleset(snapshot?.networkPolicy, { podIP, gateway: this.options.gateway, serviceCIDR });
  }

  /** What a new sandbox of the pod starts with: its ruleset, and the label syncFirewalls knows it by. */
  firewall(podIP: string): { readonly ruleset: string; readonly labels: Readonly<Record<string, string>> } {
    const ruleset = this.ruleset(podIP);
    return { ruleset, labels: { [NETPOL_LABEL]: rulesetHash(ruleset) } };
  }

  /**
   * Replaces the ruleset in every running sandbox of this node whose pod's ruleset the
   * snapshot changed. A sandbox that cannot be programmed is logged and tried again with the
   * next snapshot; the others go on.
   */
  async syncFirewalls(snapshot: Snapshot): Promise<void> {
    const hasPolicies = snapshot.networkPolicy !== undefined;
    if (!hasPolicies && !this.#hadPolicies) return;
    this.#hadPolicies = hasPolicies;
    const pods = new Map(snapshot.pods.filter((p) => p.nodeName === this.options.node && p.ip !== '').map((p) => [`${p.namespace}.${p.name}`, p]));
    let sandboxes: ContainerSummary[];
    try {
      sandboxes = await this.engine.listContainers({ [NODE_LABEL]: this.options.node, [CONTAINER_LABEL]: 'POD' });
    } catch (err) {
      this.#hadPolicies = true;
      this.options.log(`NetworkPolicy: cannot list this node's sandboxes: ${(err as Error).message}`);
      return;
    }
    const live = new Set(sandboxes.map((s) => s.Id));
    for (const id of this.#firewalls.keys()) if (!live.has(id)) this.#firewalls.delete(id);
    await Promise.all(
      sandboxes.map(async (sandbox) => {
        const pod = pods.get(sandbox.Labels[POD_LABEL] ?? '');
        if (sandbox.State !== 'running' || pod === undefined) return;
        const ruleset = this.ruleset(pod.ip, snapshot);
        const hash = rulesetHash(ruleset);
        if ((this.#firewalls.get(sandbox.Id) ?? sandbox.Labels[NETPOL_LABEL]) === hash) return;
        const failed = (why: string) => {
          this.#hadPolicies = true;
          this.options.log(`NetworkPolicy: pod ${pod.namespace}/${pod.name} keeps its previous rules: nft failed: ${why}`);
        };
        try {
          const result = await this.engine.exec(sandbox.Id, ['sh', '-c', FIREWALL_COMMAND], [`${FIREWALL_ENV}=${ruleset}`]);
          if (result.exitCode !== 0) return failed(result.output.map((l) => l.text).join(' / ') || `exit ${result.exitCode}`);
          this.#firewalls.set(sandbox.Id, hash);
        } catch (err) {
          failed((err as Error).message);
        }
      }),
    );
  }

  owns(ip: string): boolean {
    return cidrContains(this.options.podCIDR, ip);
  }

  createPod(pod: PodOfKind<'container'>, ctx: PodKindContext): ContainerPod {
    const kind = pod.runtime;
    const serviceCIDR = this.snapshot?.settings.addresses.serviceCIDR ?? '10.0.0.0/16';
    // kubelet reads the Services' variables when the container starts.
    const containers: ContainerLaunch[] = kind.containers.map((c) => ({
      ...c,
      env: Object.entries(containerEnv(pod, ctx.nodeAddress, c.env, ctx.services())).map(([name, value]) => ({ name, value })),
    }));
    return new ContainerPod(pod, {
      engine: this.engine,
      containers,
      restartPolicy: kind.restartPolicy,
      // Scaled like every emulated duration; Docker counts whole seconds.
      terminationGracePeriodSeconds: Math.max(1, kind.terminationGracePeriodSeconds * ctx.timeScale),
      sandboxImage: this.options.sandboxImage,
      network: this.network,
      gateway: this.options.gateway,
      resolvConf: podResolvConf(serviceCIDR, pod.namespace),
      labels: { [NODE_LABEL]: this.options.node, [POD_LABEL]: `${pod.namespace}.${pod.name}` },
      timeScale: ctx.timeScale,
      log: ctx.log,
      onStatus: () => ctx.statusChanged(),
      ...(kind.whenImageUnavailable === 'echo' ? { inPlaceOfMissingImage: (launch: ContainerLaunch) => this.#echoInPlaceOf(pod, launch, ctx) } : {}),
      clock: ctx.clock,
      ...(ctx.nodeAddress === undefined ? {} : { probeSource: ctx.nodeAddress }),
      // Rendered when the sandbox is created, from the snapshot in force then.
      firewall: () => this.firewall(pod.ip),
    });
  }

  /** The echo pod as a container of this node's own image (`aks-emu role echo`), in the pod's sandbox. */
  #echoInPlaceOf(pod: PodInfo, launch: ContainerLaunch, ctx: PodKindContext): ContainerLaunch {
    return {
      name: launch.name,
      image: this.options.sandboxImage,
      imagePullPolicy: 'IfNotPresent',
      command: ['node', '/app/bin/aks-emu.js', 'role', 'echo'],
      args: [],
      env: [
        { name: ECHO_POD_ENV, value: JSON.stringify(pod) },
        { name: 'AKS_EMU_NODE', value: this.options.node },
        { name: 'AKS_EMU_NODE_ADDRESS', value: ctx.nodeAddress ?? '' },
      ],
    };
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
