/**
 * kube-proxy in a node container's kernel: after each snapshot (and each change of the
 * faults), the node renders its table (src/cluster/kube-proxy-nft.ts) and, when the text
 * changed, loads it with one `nft -f` (the text deletes and re-creates the table in one
 * transaction). The user-space listeners stay bound beside it: a Service port the table
 * does not translate (a fault, a NetworkPolicy, the LB's probes, the healthCheckNodePort)
 * reaches them as before, so the path of each port is the renderer's decision alone.
 */
import { execFile } from 'node:child_process';

import { renderKubeProxyNft, type KubeProxyNftFacts, type ProxyMode, type ServicePortPath } from '../../cluster/kube-proxy-nft.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import type { FaultHolder } from '../../faults/compile.js';

export type { ProxyMode } from '../../cluster/kube-proxy-nft.js';

/** Runs `nft -f -` with the text on stdin; rejects with nft's message. */
export type NftRunner = (ruleset: string) => Promise<void>;

export const runNft: NftRunner = (ruleset) =>
  new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err === null) return resolve();
      reject(
        new AksEmuError('AKS_EMU_PLATFORM', `nft -f failed: ${String(stderr).trim() || err.message} (the node container needs cap_add: [NET_ADMIN])`, {
          cause: err,
        }),
      );
    });
    child.stdin?.end(ruleset);
  });

/** `AKS_EMU_PROXY_MODE` / `--proxy-mode`: nftables (kernel) or userspace. */
export function parseProxyMode(value: string | undefined, where: string): ProxyMode {
  if (value === undefined || value === '' || value === 'userspace') return 'userspace';
  if (value === 'nftables') return 'nftables';
  throw new AksEmuError('AKS_EMU_USAGE', `${where}: "${value}" is not a proxy mode (nftables or userspace)`);
}

export interface KernelProxyOptions {
  readonly node: string;
  readonly mode: ProxyMode;
  readonly probeSource?: string;
  readonly faults: FaultHolder;
  readonly log: (line: string) => void;
  readonly nft?: NftRunner;
}

export class KernelProxy {
  readonly #options: KernelProxyOptions;
  readonly #nft: NftRunner;
  #loaded: string | undefined;
  #summary = '';
  #paths: readonly ServicePortPath[] = [];
  /** One sync at a time; a request during one runs once more after it, with the latest state. */
  #running: Promise<void> | undefined;
  #again = false;
  #snapshot: Snapshot | undefined;

  constructor(options: KernelProxyOptions) {
    this.#options = options;
    this.#nft = options.nft ?? runNft;
  }

  /** Each Service port's path on this node under the last table loaded. */
  get paths(): readonly ServicePortPath[] {
    return this.#paths;
  }

  /** After a snapshot is applied (or the faults changed: call with no argument). Never rejects: a failure is logged and retried next time. */
  async sync(snapshot: Snapshot | undefined = this.#snapshot): Promise<void> {
    this.#snapshot = snapshot;
    if (snapshot === undefined) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#syncOnce(this.#snapshot!);
      } while (this.#again);
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #syncOnce(snapshot: Snapshot): Promise<void> {
    if (this.#options.mode === 'userspace' && this.#loaded === undefined) return;
    const { paths, ruleset } = renderKubeProxyNft(snapshot, this.#facts());
    if (ruleset === this.#loaded) return;
    try {
      await this.#nft(ruleset);
    } catch (err) {
      this.#options.log(`kube-proxy nftables: the table keeps its previous rules: ${(err as Error).message}`);
      return;
    }
    this.#loaded = ruleset;
    this.#paths = paths;
    const summary = describePaths(paths);
    if (summary !== this.#summary) this.#options.log(`kube-proxy nftables: ${summary}`);
    this.#summary = summary;
  }

  #facts(): KubeProxyNftFacts {
    const table = this.#options.faults.table;
    const servicePorts = new Set<string>();
    for (const key of table?.ports.keys() ?? []) {
      const [hop, port] = key.split('|', 2);
      if ((hop === 'service' || hop === 'nodeport') && port !== undefined) servicePorts.add(port);
    }
    return {
      node: this.#options.node,
      mode: this.#options.mode,
      ...(this.#options.probeSource === undefined ? {} : { probeSource: this.#options.probeSource }),
      ...(table === undefined ? {} : { faults: { node: table.nodes.size > 0, servicePorts, podIPs: new Set(table.pods.keys()) } }),
    };
  }

  /** Removes the table (the node stops: nothing may be translated to pods it no longer serves). */
  async stop(): Promise<void> {
    await this.#running;
    if (this.#loaded === undefined) return;
    await this.#nft(renderKubeProxyNft({ ...this.#snapshot!, nodes: [] }, this.#facts()).ruleset).catch((err: Error) =>
      this.#options.log(`kube-proxy nftables: ${err.message}`),
    );
    this.#loaded = undefined;
  }
}

/** `3 Service ports in the kernel; in user space: default/web:http (fault)`. */
export function describePaths(paths: readonly ServicePortPath[]): string {
  const kernel = paths.filter((p) => p.path === 'kernel').length;
  const user = paths.flatMap((p) => (p.path === 'userspace' ? [`${p.servicePort} (${p.reason})`] : []));
  const inUser =
    user.length === 0
      ? 'none in user space'
      : `in user space: ${user.length > 8 ? `${user.slice(0, 8).join(', ')} and ${user.length - 8} more` : user.join(', ')}`;
  return `${kernel} Service port${kernel === 1 ? '' : 's'} in the kernel; ${inUser}`;
}
