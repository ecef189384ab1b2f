/**
 * Wildcard DNS names that embed their own IPv4 address, as the public nip.io and sslip.io
 * services answer them: `app.127.20.0.1.nip.io` (dots), `app-127-20-0-1.nip.io` (dashes),
 * `app.127-20-0-1.sslip.io`, `app-7f140001.nip.io` (eight hex digits), or the address alone
 * (`127.20.0.1.nip.io`). Read here, without a query to public DNS, so that Ingress host names
 * written for them work offline and never leak to a resolver.
 */
import { AksEmuError } from '../errors/index.js';

const DOMAINS = ['nip.io', 'sslip.io'] as const;

/** The address at the end of the label part, after a dot, a dash or nothing. */
const DOTTED = /(?:^|[.-])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const DASHED = /(?:^|[.-])(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/;
const HEX = /(?:^|[.-])([0-9a-f]{8})$/;

function octets(parts: readonly string[]): string | undefined {
  const numbers = parts.map(Number);
  return numbers.every((n) => n <= 255) ? numbers.join('.') : undefined;
}

/** The wildcard domain `host` is under, or undefined when it is not a nip.io or sslip.io name. */
export function ipNameDomain(host: string): (typeof DOMAINS)[number] | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return DOMAINS.find((d) => name === d || name.endsWith(`.${d}`));
}

/**
 * The IPv4 address a nip.io or sslip.io name embeds; undefined for any other name; an
 * AKS_EMU_NOT_FOUND error for a name under those domains that embeds no address.
 */
export function embeddedAddress(host: string): string | undefined {
  const domain = ipNameDomain(host);
  if (domain === undefined) return undefined;
  const name = host.toLowerCase().replace(/\.$/, '');
  const prefix = name.slice(0, Math.max(0, name.length - domain.length - 1));
  const dotted = DOTTED.exec(prefix) ?? DASHED.exec(prefix);
  const address = dotted ? octets(dotted.slice(1, 5)) : undefined;
  if (address !== undefined) return address;
  const hex = HEX.exec(prefix);
  if (hex) return octets([0, 2, 4, 6].map((i) => String(parseInt(hex[1]!.slice(i, i + 2), 16))));
  throw new AksEmuError(
    'AKS_EMU_NOT_FOUND',
    `Could not resolve host: ${host} (a ${domain} name ends in the IPv4 address it stands for: app.10.0.0.1.${domain} or app-10-0-0-1.${domain})`,
  );
}
