/**
 * loadBalancerSourceRanges: the client CIDRs allowed through the LB frontend (AKS
 * programs them into the NSG). Compiled once per rule into integer ranges; the check
 * parses the client's address without allocating.
 */

/** The IPv4 address in `text` (plain or IPv4-mapped IPv6) as an unsigned integer, or -1. */
export function parseIPv4(text: string): number {
  const start = text.lastIndexOf(':') + 1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

export class SourceRanges {
  private constructor(
    /** Pairs of [first, last] address, inclusive. */
    private readonly bounds: Float64Array,
  ) {}

  /** undefined when `cidrs` is empty: every client may connect. IPv6 ranges never match IPv4 clients. */
  static compile(cidrs: readonly string[]): SourceRanges | undefined {
    if (cidrs.length === 0) return undefined;
    const bounds: number[] = [];
    for (const cidr of cidrs) {
      const [address = '', prefixText = '32'] = cidr.split('/');
      const base = parseIPv4(address);
      const prefix = Number(prefixText);
      if (base < 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) continue;
      const size = 2 ** (32 - prefix);
      const first = Math.floor(base / size) * size;
      bounds.push(first, first + size - 1);
    }
    return new SourceRanges(Float64Array.from(bounds));
  }

  allows(address: string | undefined): boolean {
    if (address === undefined) return false;
    const value = parseIPv4(address);
    if (value < 0) return false;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i += 2) {
      if (value >= (bounds[i] as number) && value <= (bounds[i + 1] as number)) return true;
    }
    return false;
  }
}
