import type { AddressRanges } from '../../src/config/types.js';

/**
 * Test files run in parallel processes; each integration file takes its own four /16s of
 * 127.0.0.0/8 (block n → 127.(128+4n).0.0/16 ...) so that clusters never share an address.
 */
export function addressBlock(n: number): AddressRanges {
  if (!Number.isInteger(n) || n < 0 || n > 31) throw new Error(`address block ${n} out of 0..31`);
  const base = 128 + 4 * n;
  return {
    nodeSubnet: `127.${base}.0.0/16`,
    podCIDR: `127.${base + 1}.0.0/16`,
    serviceCIDR: `127.${base + 2}.0.0/16`,
    publicFrontends: `127.${base + 3}.0.0/16`,
  };
}
