/**
 * Deterministic names and uids. The control plane is pure, so the random-looking parts
 * Kubernetes generates (pod-template-hash, pod name suffixes, uids) are derived from a
 * hash of what owns them: the same manifests always give the same pods.
 */
import { createHash } from 'node:crypto';

/**
 * k8s.io/apimachinery/pkg/util/rand: the alphabet of generated names, without vowels
 * (no accidental words) and without 0, 1 and 3 (confusable with o, l and e).
 */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function digest(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/**
 * Names and uids already derived, by seed: every snapshot derives them again for every pod
 * and workload (3,000 pods at 1,000 Services), and a SHA-256 costs more than a lookup. A
 * pure function's results, so the cache changes nothing but the time; it is emptied when
 * it grows past MEMO_LIMIT, so objects long gone do not keep their names in memory.
 */
const MEMO_LIMIT = 50_000;

function memoised(fn: (seed: string) => string): (seed: string) => string {
  const memo = new Map<string, string>();
  return (seed) => {
    let value = memo.get(seed);
    if (value === undefined) {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      memo.set(seed, (value = fn(seed)));
    }
    return value;
  };
}

/** The 32 characters of the Kubernetes name alphabet derived from `seed`; safeEncode takes a prefix. */
const encoded32 = memoised((seed) => {
  const bytes = digest(seed);
  let out = '';
  for (let i = 0; i < 32; i++) out += ALPHANUMS[(bytes[i] ?? 0) % ALPHANUMS.length];
  return out;
});

/** `length` characters of the Kubernetes name alphabet derived from `seed` (length ≤ 32). */
export function safeEncode(seed: string, length: number): string {
  return encoded32(seed).slice(0, length);
}

/** A version-4-shaped UUID derived from `seed`. */
export const stableUid = memoised((seed: string): string => {
  const hex = digest(`uid:${seed}`).toString('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
});
