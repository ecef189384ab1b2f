/**
 * Highest-random-weight (rendezvous) hashing: every item scores the key, the best score
 * wins. When an item leaves, only the keys it won move; the rest stay put.
 */
import { mix32 } from './hash.js';

export interface RendezvousItem {
  /** A hash of the item's stable identity (its name), computed once. */
  readonly hash: number;
}

export function rendezvous<T extends RendezvousItem>(items: readonly T[], key: number): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const item of items) {
    const score = mix32(key ^ mix32(item.hash));
    if (score > bestScore) {
      bestScore = score;
      best = item;
    }
  }
  return best;
}
