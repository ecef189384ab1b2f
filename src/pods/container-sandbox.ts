/**
 * A container pod's sandbox (kubelet's pause container): it owns the pod IP on the node's
 * pod network, replaces the engine's default route with one through the node before
 * anything else runs in the namespace (every packet goes to the node, which routes only
 * the emulated ranges), loads the pod's NetworkPolicy ruleset (nft) before any of the pod's
 * containers can send or receive, writes the pod's resolv.conf, and then sleeps until SIGTERM. The
 * pod's containers join its network namespace and share its resolv.conf and hostname.
 */
import type { PodInfo } from '../cluster/snapshot.js';
import type { ContainerEngine } from './container-pod.js';

export interface SandboxOptions {
  readonly name: string;
  /** Needs `sh` and `ip` (the aks-emu image has both). */
  readonly image: string;
  readonly network: string;
  /** The node's address on the pod network. */
  readonly gateway: string;
  readonly resolvConf: string;
  readonly labels: Readonly<Record<string, string>>;
  /** An `nft -f` ruleset for the pod's namespace (src/cluster/netpol/render-nft.ts); the image needs `nft`. */
  readonly firewall?: string;
}

/** The sandbox's environment variable with the ruleset, also what a later `docker exec` passes (see FIREWALL_COMMAND). */
export const FIREWALL_ENV = 'AKS_EMU_NFT';
/** Loads the ruleset in FIREWALL_ENV into the namespace, atomically (one nft transaction). */
export const FIREWALL_COMMAND = `printf '%s' "$${FIREWALL_ENV}" | nft -f -`;

const READY_LINE = 'sandbox-ready';
/** The setup is four commands; a sandbox that has not printed its line by then has failed. */
const READY_POLLS = 100;
const READY_POLL_MS = 50;

/** Creates and starts the sandbox; resolves with its id once its network is set up. */
export async function startSandbox(engine: ContainerEngine, pod: PodInfo, options: SandboxOptions): Promise<string> {
  // `&&`: when a step fails the sandbox exits, and no container of the pod ever starts.
  const script = [
    `ip route replace default via ${options.gateway}`,
    ...(options.firewall === undefined ? [] : [FIREWALL_COMMAND]),
    `printf '%s' '${options.resolvConf.replace(/'/g, '')}' > /etc/resolv.conf`,
    `echo ${READY_LINE}`,
    "trap 'exit 0' TERM",
    'while :; do sleep 3600 & wait; done',
  ].join(' && ');
  const id = await engine.createContainer({
    name: options.name,
    Image: options.image,
    Entrypoint: ['sh', '-c', script],
    Cmd: null,
    ...(options.firewall === undefined ? {} : { Env: [`${FIREWALL_ENV}=${options.firewall}`] }),
    Hostname: pod.name,
    Labels: options.labels,
    HostConfig: { NetworkMode: options.network, CapAdd: ['NET_ADMIN'] },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { IPAMConfig: { IPv4Address: pod.ip } } } },
  });
  await engine.startContainer(id);
  for (let attempt = 0; ; attempt++) {
    const lines = await engine.logs(id);
    if (lines.some((l) => l.text === READY_LINE)) return id;
    if (attempt >= READY_POLLS) {
      await engine.removeContainer(id);
      throw new Error(`pod ${pod.namespace}/${pod.name}: the sandbox did not set up its network: ${lines.map((l) => l.text).join(' / ') || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}
