/**
 * IPv4 addresses and CIDRs as 32-bit unsigned numbers, shared with the control plane's
 * allocators. Parsing is strict: leading zeros are rejected, as Go's net/netip does
 * (Kubernetes only tolerates them in legacy fields, with a warning).
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** `10.0.0.1` → 167772161; undefined for anything that is not a dotted-quad IPv4 address. */
export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface CIDR {
  /** The network address (host bits cleared). */
  readonly base: number;
  readonly bits: number;
}

/** The netmask of a prefix length as an unsigned number (`/0` → 0). */
export function prefixMask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * `10.0.0.0/16` → { base, bits }. Like Go's net.ParseCIDR, host bits may be set
 * (`10.0.0.5/16` parses, base becomes 10.0.0.0).
 */
export function parseCIDR(s: string): CIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIPv4(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9][0-9]?)$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  return { base: (ip & prefixMask(bits)) >>> 0, bits };
}

/** Whether `ip` (text or number) lies inside `cidr` (text or parsed); false for unparsable input. */
export function cidrContains(cidr: string | CIDR, ip: string | number): boolean {
  const range = typeof cidr === 'string' ? parseCIDR(cidr) : cidr;
  const addr = typeof ip === 'string' ? parseIPv4(ip) : ip;
  if (range === undefined || addr === undefined) return false;
  return (addr & prefixMask(range.bits)) >>> 0 === range.base;
}

/** Number of addresses in the range (2^(32-bits)). */
export function cidrSize(cidr: CIDR): number {
  return 2 ** (32 - cidr.bits);
}

/**
 * Any IPv4 or IPv6 address, for fields Kubernetes validates with IsValidIP
 * (`must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`).
 */
export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** Any IPv4 or IPv6 CIDR, for fields Kubernetes validates with IsValidCIDR. */
export function isCIDRText(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText)) return false;
  const bits = Number(bitsText);
  if (isIPv4(ip)) return bits <= 32;
  return isIPv6(ip) && bits <= 128;
}
