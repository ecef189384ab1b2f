import { createHash } from 'node:crypto';

/**
 * A UID for an object whose manifest has none. It must be stable across runs because
 * cloud-provider-azure names a Service's frontend IP configuration after its UID
 * (`a` + the UID without dashes): same manifest, same frontend names. Shaped like a
 * name-based (version 5, SHA-1) UUID of kind/namespace/name.
 */
export function stableUid(kind: string, namespace: string, name: string): string {
  const hex = createHash('sha1').update(`aks-emu/${kind}/${namespace}/${name}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
