/**
 * kube-proxy in a node container's kernel: after each snapshot (and each change of the
 * faults), the node renders its table (src/cluster/kube-proxy-nft.ts) and, when the text
 * changed, loads it with one `nft -f` (the text deletes and re-creates the table in one
 * transaction). The user-space listeners stay bound beside it: a Service port the table
 * does not translate (a fault, a NetworkPolicy, the LB's probes, the healthCheckNodePort)
 * reaches them as before, so the path of each port is the renderer's decision alone.
 */
import { execFile } from 'node:child_process';

import {
  KUBE_PROXY_NFT_TABLE,
  renderKubeProxyNft,
  type KernelCounterRef,
  type KubeProxyNftFacts,
  type ProxyMode,
  type ServicePortPath,
} from '../../cluster/kube-proxy-nft.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import type { FaultHolder } from '../../faults/compile.js';
import type { KernelCounterReader } from './kernel-counters.js';

export type { ProxyMode } from '../../cluster/kube-proxy-nft.js';

/**
 * Runs `nft ARGS` (with `input` on stdin when given) and resolves with its output; rejects
 * with nft's own message. The one way the container roles call nft: loading a table here,
 * reading its counters in kernel-counters.ts.
 */
export function execNft(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) return resolve(String(stdout));
      reject(
        new AksEmuError(
          'AKS_EMU_PLATFORM',
          `nft ${args.join(' ')} failed: ${String(stderr).trim() || err.message} (the node container needs cap_add: [NET_ADMIN])`,
          {
            cause: err,
          },
        ),
      );
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs `nft -f -` with the text on stdin; rejects with nft's message. */
export type NftRunner = (ruleset: string) => Promise<void>;

export const runNft: NftRunner = async (ruleset) => {
  await execNft(['-f', '-'], ruleset);
};

/** `AKS_EMU_PROXY_MODE` / `--proxy-mode`: nftables (kernel) or userspace. */
export function parseProxyMode(value: string | undefined, where: string): ProxyMode {
  if (value === undefined || value === '' || value === 'userspace') return 'userspace';
  if (value === 'nftables') return 'nftables';
  throw new AksEmuError('AKS_EMU_USAGE', `${where}: "${value}" is not a proxy mode (nftables or userspace)`);
}

/** What one table is made of: its text from a snapshot, and a line that says what it does. */
export interface NftTableSpec<P> {
  /** The log prefix: `kube-proxy nftables`, `lb nftables`. */
  readonly what: string;
  readonly render: (snapshot: Snapshot) => {
    readonly paths: readonly P[];
    readonly ruleset: string;
    readonly counters: ReadonlyMap<string, KernelCounterRef>;
  };
  /** Reads the loaded table's counters into the data plane's (kernel-counters.ts): before each replacement and when asked. */
  readonly counters?: KernelCounterReader;
  /** The text that removes the table. */
  readonly removal: string;
  readonly describe: (paths: readonly P[]) => string;
  readonly log: (line: string) => void;
  readonly nft?: NftRunner;
}

/**
 * Keeps one nftables table in step with the snapshot (and whatever else its render reads:
 * faults, probe states): renders on each sync and loads the text when it changed, one sync
 * at a time (a request during one runs once more after it, with the latest state).
 */
export class NftTableSync<P> {
  readonly #spec: NftTableSpec<P>;
  readonly #nft: NftRunner;
  #loaded: string | undefined;
  #summary = '';
  #paths: readonly P[] = [];
  #counted: ReadonlyMap<string, KernelCounterRef> = new Map();
  #running: Promise<void> | undefined;
  #again = false;
  #snapshot: Snapshot | undefined;
  /** Loads and counter reads, one at a time: a read always meets the table whose counter map it holds. */
  #serial: Promise<unknown> = Promise.resolve();

  constructor(spec: NftTableSpec<P>) {
    this.#spec = spec;
    this.#nft = spec.nft ?? runNft;
  }

  /** The decision under the table last loaded. */
  get paths(): readonly P[] {
    return this.#paths;
  }

  /** After a snapshot is applied (or something else the table reads changed: no argument). Never rejects: a failure is logged and retried next time. */
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

  /**
   * Adds what the loaded table counted since the last read to the data plane's counters
   * (one `nft -j list table` per call). Never rejects: a failed read is logged, and what it
   * missed is counted by the next one.
   */
  readCounters(): Promise<void> {
    return this.#exclusive(() => this.#readCounters());
  }

  async #readCounters(): Promise<void> {
    if (this.#loaded === undefined || this.#spec.counters === undefined || this.#counted.size === 0) return;
    await this.#spec.counters.read(this.#counted).catch((err: Error) => this.#spec.log(`${this.#spec.what}: counters not read: ${err.message}`));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(fn, fn);
    this.#serial = next.catch(() => undefined);
    return next;
  }

  async #syncOnce(snapshot: Snapshot): Promise<void> {
    const { paths, ruleset, counters } = this.#spec.render(snapshot);
    if (ruleset === this.#loaded || (this.#loaded === undefined && ruleset === this.#spec.removal)) return;
    const loaded = await this.#exclusive(async () => {
      // The replaced table's counters start again from zero: what it counted since the last read is taken first.
      await this.#readCounters();
      try {
        await this.#nft(ruleset);
      } catch (err) {
        this.#spec.log(`${this.#spec.what}: the table keeps its previous rules: ${(err as Error).message}`);
        return false;
      }
      this.#counted = counters;
      this.#spec.counters?.replaced();
      return true;
    });
    if (!loaded) return;
    this.#loaded = ruleset;
    this.#paths = paths;
    const summary = this.#spec.describe(paths);
    if (summary !== this.#summary) this.#spec.log(`${this.#spec.what}: ${summary}`);
    this.#summary = summary;
  }

  /** Removes the table (the role stops: nothing may be translated to what no longer serves). */
  async stop(): Promise<void> {
    await this.#running;
    this.#snapshot = undefined;
    if (this.#loaded === undefined) return;
    await this.#exclusive(() => this.#nft(this.#spec.removal)).catch((err: Error) => this.#spec.log(`${this.#spec.what}: ${err.message}`));
    this.#loaded = undefined;
    this.#counted = new Map();
    this.#spec.counters?.replaced();
  }
}

/** Service port keys with a fault at one of `hops` (`service`, `nodeport`, `frontend`). */
export function faultedServicePorts(faults: FaultHolder, hops: readonly string[]): Set<string> {
  const ports = new Set<string>();
  for (const key of faults.table?.ports.keys() ?? []) {
    const [hop, port] = key.split('|', 2);
    if (hop !== undefined && hops.includes(hop) && port !== undefined) ports.add(port);
  }
  return ports;
}

export interface KernelProxyOptions {
  readonly node: string;
  readonly probeSource?: string;
  readonly faults: FaultHolder;
  readonly log: (line: string) => void;
  readonly nft?: NftRunner;
  readonly counters?: KernelCounterReader;
}

/** A node's kube-proxy table (nftables mode). */
export function kernelProxy(options: KernelProxyOptions): NftTableSync<ServicePortPath> {
  const facts = (): KubeProxyNftFacts => {
    const table = options.faults.table;
    return {
      node: options.node,
      mode: 'nftables',
      ...(options.probeSource === undefined ? {} : { probeSource: options.probeSource }),
      ...(table === undefined
        ? {}
        : {
            faults: {
              node: table.nodes.size > 0,
              servicePorts: faultedServicePorts(options.faults, ['service', 'nodeport']),
              podIPs: new Set(table.pods.keys()),
            },
          }),
    };
  };
  return new NftTableSync<ServicePortPath>({
    what: 'kube-proxy nftables',
    render: (snapshot) => renderKubeProxyNft(snapshot, facts()),
    removal: `add table ip ${KUBE_PROXY_NFT_TABLE}\ndelete table ip ${KUBE_PROXY_NFT_TABLE}\n`,
    describe: describePaths,
    log: options.log,
    ...(options.nft === undefined ? {} : { nft: options.nft }),
    ...(options.counters === undefined ? {} : { counters: options.counters }),
  });
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
