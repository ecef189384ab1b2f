/**
 * What a role container does to its own network namespace (NET_ADMIN), through the
 * image's `ip` (busybox's, or iproute2's). Interfaces are found by address, never by
 * name: Docker numbers eth0/eth1 in no stable order (docker/NOTES.md).
 */
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

import { AksEmuError } from '../../errors/index.js';
import { cidrContains } from '../../manifests/ip.js';

const run = promisify(execFile);

export interface HostNetwork {
  /** Removes the default route: nothing this container sends can leave the emulated networks. */
  isolate(): Promise<void>;
  /** Makes every address of the range local (an AnyIP route on lo): VIPs and pod IPs bind at once. */
  addLocalRange(cidr: string): Promise<void>;
  /** Undoes addLocalRange. */
  removeLocalRange(cidr: string): Promise<void>;
  /** Routes a range through a neighbour on a shared network (pod CIDRs, the service CIDR). */
  route(cidr: string, via: string): Promise<void>;
  /** Adds one address to this container's interface on `network` (a CIDR). */
  addAddress(address: string, network: string): Promise<void>;
  removeAddress(address: string, network: string): Promise<void>;
  /** The first address of this container inside `cidr`, or undefined. */
  localAddressIn(cidr: string): string | undefined;
}

async function ip(args: readonly string[], tolerate: RegExp | undefined = undefined): Promise<void> {
  try {
    await run('ip', [...args], { timeout: 10_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    if (tolerate?.test(stderr)) return;
    throw new AksEmuError(
      'AKS_EMU_PLATFORM',
      `ip ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message} (the container needs cap_add: [NET_ADMIN])`,
      {
        cause: err,
      },
    );
  }
}

/** The container's own namespace, changed with `ip`. */
export class IpCommandNetwork implements HostNetwork {
  async isolate(): Promise<void> {
    await ip(['route', 'del', 'default'], /No such process|not found/i);
  }

  async addLocalRange(cidr: string): Promise<void> {
    await ip(['route', 'replace', 'local', cidr, 'dev', 'lo']);
  }

  async removeLocalRange(cidr: string): Promise<void> {
    await ip(['route', 'del', 'local', cidr, 'dev', 'lo'], /No such process|not found/i);
  }

  async route(cidr: string, via: string): Promise<void> {
    await ip(['route', 'replace', cidr, 'via', via]);
  }

  async addAddress(address: string, network: string): Promise<void> {
    await ip(['addr', 'add', `${address}/32`, 'dev', this.#interfaceOn(network)], /File exists/);
  }

  async removeAddress(address: string, network: string): Promise<void> {
    await ip(['addr', 'del', `${address}/32`, 'dev', this.#interfaceOn(network)], /Cannot assign|not found/i);
  }

  localAddressIn(cidr: string): string | undefined {
    return interfaceAddresses().find((a) => cidrContains(cidr, a.address))?.address;
  }

  #interfaceOn(network: string): string {
    const found = interfaceAddresses().find((a) => cidrContains(network, a.address));
    if (found === undefined) throw new AksEmuError('AKS_EMU_PLATFORM', `no interface of this container has an address in ${network}`);
    return found.name;
  }
}

interface InterfaceAddress {
  readonly name: string;
  readonly address: string;
}

function interfaceAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push({ name, address: a.address });
    }
  }
  return out;
}

/**
 * For hosts where every address is already local (127.0.0.0/8 on Linux): changes
 * nothing, and claims the addresses it is given as this container's own.
 */
export class LoopbackNetwork implements HostNetwork {
  constructor(private readonly own: readonly string[]) {}

  async isolate(): Promise<void> {}
  async addLocalRange(): Promise<void> {}
  async removeLocalRange(): Promise<void> {}
  async route(): Promise<void> {}
  async addAddress(): Promise<void> {}
  async removeAddress(): Promise<void> {}

  localAddressIn(cidr: string): string | undefined {
    return this.own.find((address) => cidrContains(cidr, address));
  }
}
