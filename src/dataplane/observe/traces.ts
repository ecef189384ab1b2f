/**
 * The trace store of one cluster: every L4 connection (flow.ts) and every HTTP request an
 * L7 pod proxied (http.ts) gets a record with an id, kept in one bounded ring. Records are
 * plain objects filled in as the connection moves through its hops; the JSON view is made
 * only when someone asks for it, and is a copy: an HTTP record is reused for a later
 * request once the rings and its request have let go of it (http.ts).
 */
import { Ring } from './ring.js';

/** Records kept by default: enough for a test or a look at the last minutes of traffic. */
export const DEFAULT_TRACE_CAPACITY = 2048;

export interface TraceRecord {
  readonly id: number;
  /** `namespace/name` of every Service this record touched (for ?service=). */
  services(): readonly string[];
  /** Still open: announced to followers when it ends. */
  readonly open: boolean;
  toJSON(): TraceView;
  /** The ring dropped the record (HTTP records are reused once nothing holds them). */
  evicted?(): void;
}

export interface TraceView {
  readonly id: number;
  readonly kind: 'tcp' | 'http';
  readonly [field: string]: unknown;
}

export interface TraceQuery {
  /** `namespace/name`. */
  readonly service?: string;
  /** The latest N that match (all that are kept when undefined). */
  readonly last?: number;
  readonly kind?: 'tcp' | 'http';
}

export function matches(record: TraceRecord, query: TraceQuery): boolean {
  if (query.kind !== undefined && record.toJSON().kind !== query.kind) return false;
  return query.service === undefined || record.services().includes(query.service);
}

export class Traces {
  #nextId = 1;
  readonly #ring: Ring<TraceRecord>;

  constructor(capacity = DEFAULT_TRACE_CAPACITY) {
    this.#ring = new Ring(capacity);
  }

  get capacity(): number {
    return this.#ring.capacity;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** Kept from its start, so open connections show too; followers hear of it when it ends. */
  add(record: TraceRecord): void {
    this.#ring.push(record)?.evicted?.();
  }

  ended(record: TraceRecord): void {
    if (this.#ring.following) this.#ring.announce(record);
  }

  /** Oldest first, the latest `last` of those matching. */
  query(query: TraceQuery = {}): TraceView[] {
    const found = this.#ring.items().filter((r) => matches(r, query));
    const last = query.last === undefined ? found : found.slice(Math.max(0, found.length - query.last));
    return last.map((r) => r.toJSON());
  }

  /** Every record that ends from now on and matches, until the returned function is called. */
  follow(query: TraceQuery, onRecord: (view: TraceView) => void): () => void {
    return this.#ring.follow((record) => {
      if (matches(record, query)) onRecord(record.toJSON());
    });
  }
}
