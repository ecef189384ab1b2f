/**
 * The strings a finished HTTP record keeps (URL, host, rewrite target, headers the access
 * log prints, client address, request id), held as UTF-8 bytes in a buffer of the record's
 * own instead of as references to the request's strings.
 *
 * Why: the trace and access-log rings keep thousands of records, so a record outlives its
 * request by thousands of requests. Holding the request's strings (slices that keep the
 * whole request head alive) made them survive young-generation collections and be
 * promoted, and the garbage collector's work grew with every request: measured with
 * `npm run perf -- --hooks-ab`, the hooks cost about a third of the CPU of a keep-alive
 * ingress request, and most of it went away when the rings were shrunk. Bytes in a
 * buffer outside the JavaScript heap are not traced nor moved by the collector; the
 * strings are made again only when a reader (the trace API, the access log) asks.
 *
 * Round trip: UTF-8 gives back every string without lone surrogates, which is every string
 * read from an HTTP head (Node and the lean server decode heads as latin1).
 */

/** A record's buffer starts at this size and goes back to it when reset after holding more. */
const INITIAL_BYTES = 256;
const KEEP_AT_MOST_BYTES = 4096;

export class KeptStrings {
  #buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  readonly #ends: Int32Array;
  /** Bit i: field i was undefined. */
  #absent = 0;
  #count = 0;

  constructor(readonly fields: number) {
    if (fields > 31) throw new RangeError(`KeptStrings holds at most 31 fields, not ${fields}`);
    this.#ends = new Int32Array(fields);
  }

  /** Forgets every field; a buffer grown past KEEP_AT_MOST_BYTES is let go. */
  clear(): void {
    this.#count = 0;
    this.#absent = 0;
    if (this.#buf.length > KEEP_AT_MOST_BYTES) this.#buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  }

  /** Keeps the next field (fields are pushed in order: 0, 1, ...). */
  push(value: string | undefined): void {
    const i = this.#count;
    if (i >= this.fields) throw new RangeError(`KeptStrings: field ${i} of ${this.fields}`);
    this.#count = i + 1;
    const start = i === 0 ? 0 : this.#ends[i - 1]!;
    if (value === undefined) {
      this.#absent |= 1 << i;
      this.#ends[i] = start;
      return;
    }
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    const need = start + value.length * 3;
    if (need > this.#buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, 0, start);
      this.#buf = bigger;
    }
    this.#ends[i] = value.length === 0 ? start : start + this.#buf.write(value, start, 'utf8');
  }

  /** Field i as it was pushed (undefined when it was undefined, or not pushed since the last clear). */
  get(i: number): string | undefined {
    if (i >= this.#count || (this.#absent & (1 << i)) !== 0) return undefined;
    const start = i === 0 ? 0 : this.#ends[i - 1]!;
    const end = this.#ends[i]!;
    return start === end ? '' : this.#buf.toString('utf8', start, end);
  }
}
