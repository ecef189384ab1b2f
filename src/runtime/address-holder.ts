/**
 * Who holds an address:port that aks-emu could not bind, for the one message `up` gives
 * (a second `aks-emu up` on the same addresses is the usual cause). On Linux the kernel's
 * socket table (/proc/net/tcp, the calling process's network namespace) gives the
 * listening socket's inode, and /proc/<pid>/fd the process that has it open; only the
 * processes this user may read are looked at. Elsewhere, or when nothing matches, the
 * holder is unknown and the message says only what is in use.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { AksEmuError } from '../errors/index.js';

export interface AddressHolder {
  readonly pid: number;
  readonly command: string;
}

/** `127.20.0.1` and port 80 → `0100147F:0050`, as /proc/net/tcp writes a local address (little-endian on x86 and arm64). */
function procAddress(ip: string, port: number): string | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  return `${parts
    .reverse()
    .map((p) => hex(p, 2))
    .join('')}:${hex(port, 4)}`;
}

const LISTEN = '0A';

/** The inode of the listening TCP socket on ip:port, or on the wildcard address with that port. */
function listeningInode(table: string, ip: string, port: number): string | undefined {
  const wanted = [procAddress(ip, port), procAddress('0.0.0.0', port)];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === LISTEN && wanted.includes(f[1]) && f[9] !== '0') return f[9];
  }
  return undefined;
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    // Processes come and go while the table is read, and other users' are not readable.
    if (['ENOENT', 'EACCES', 'EPERM', 'ESRCH', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

/** The process listening on ip:port (TCP), when the platform says and this user may see it. */
export function addressHolder(ip: string, port: number, proc = '/proc'): AddressHolder | undefined {
  const table = readOrUndefined(() => readFileSync(`${proc}/net/tcp`, 'utf8'));
  const inode = table === undefined ? undefined : listeningInode(table, ip, port);
  if (inode === undefined) return undefined;
  const target = `socket:[${inode}]`;
  for (const entry of readOrUndefined(() => readdirSync(proc)) ?? []) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = readOrUndefined(() => readdirSync(`${proc}/${entry}/fd`)) ?? [];
    if (!fds.some((fd) => readOrUndefined(() => readlinkSync(`${proc}/${entry}/fd/${fd}`)) === target)) continue;
    const cmdline = readOrUndefined(() => readFileSync(`${proc}/${entry}/cmdline`, 'utf8')) ?? '';
    return { pid: Number(entry), command: cmdline.split('\0').filter(Boolean).join(' ') };
  }
  return undefined;
}

/** The address:port of a failed listen and why, from the system error it carries. */
function failedAddress(err: AksEmuError): { address: string; port: number; code: string | undefined } | undefined {
  const cause = err.cause as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  return typeof cause?.address === 'string' && typeof cause.port === 'number' ? { address: cause.address, port: cause.port, code: cause.code } : undefined;
}

/** What the address was for, from the message of the layer that failed to bind it. */
function purpose(message: string): string | undefined {
  const listener = /^cannot listen on \S+ \((.+)\): \w+$/.exec(message);
  if (listener) return listener[1];
  const pod = /^(pod \S+): cannot listen on/.exec(message);
  if (pod) return pod[1];
  return message.startsWith('admin API:') ? 'the admin API' : undefined;
}

/**
 * One line for an address aks-emu could not bind: which address, what it was for, who
 * holds it, and what to do about it.
 */
export function explainAddressInUse(err: AksEmuError, holderOf: typeof addressHolder = addressHolder): AksEmuError {
  const at = failedAddress(err);
  if (at === undefined) return err;
  const what = purpose(err.message);
  const where = `${at.address}:${at.port}${what ? ` (${what})` : ''}`;
  if (at.code === 'EADDRNOTAVAIL') {
    // The layers below report every failed bind under this code; this one is not a holder's.
    const message = `${where} is not an address of this machine: the embedded runtime binds every emulated address on loopback, so keep addresses: and subnets: of aks-emu.yaml inside 127.0.0.0/8`;
    return new AksEmuError('AKS_EMU_PLATFORM', message, { cause: err });
  }
  if (at.code !== 'EADDRINUSE') return err;
  const holder = holderOf(at.address, at.port);
  const who = holder === undefined ? 'another process' : `process ${holder.pid} (${holder.command})`;
  const hint = holder?.command.includes('aks-emu')
    ? 'another aks-emu runs on these addresses: stop it, or give this one other ranges (addresses: in aks-emu.yaml) and --admin HOST:PORT'
    : 'stop that process, or give aks-emu other ranges (addresses: in aks-emu.yaml) and --admin HOST:PORT';
  const message = `${where} is already in use by ${who}; ${hint}`;
  return new AksEmuError('AKS_EMU_ADDRESS_IN_USE', message, { cause: err });
}
