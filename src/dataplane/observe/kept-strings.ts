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
 *
 * Cost: a record keeps about nine fields per request, mostly short ASCII (an address, a
 * host, a path, a request id). Buffer.write is a call into C++ of about 100 ns whatever
 * the length; a short ASCII string is copied by a loop here instead (a third of that), and
 * a field with the same text as an earlier one (the rewrite target or the normalised URL,
 * when they are the request's URL) points at the earlier field's bytes.
 */

/** A record's buffer starts at this size and goes back to it when reset after holding more. */
const INITIAL_BYTES = 256;
const KEEP_AT_MOST_BYTES = 4096;
/** Strings up to this length are copied by a loop (no call into C++) while they are ASCII. */
const SHORT = 64;

export class KeptStrings {
  #buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** Where field i's bytes start ([2i]) and end ([2i + 1]) in #buf (a repeated field shares an earlier one's); one array, as the record is touched once per request. */
  readonly #bounds: Int32Array;
  /** Where the next field's bytes go. */
  #used = 0;
  /** Bit i: field i was undefined. */
  #absent = 0;
  #count = 0;

  constructor(readonly fields: number) {
    if (fields > 31) throw new RangeError(`KeptStrings holds at most 31 fields, not ${fields}`);
    this.#bounds = new Int32Array(2 * fields);
  }

  /** Forgets every field; a buffer grown past KEEP_AT_MOST_BYTES is let go. */
  clear(): void {
    this.#count = 0;
    this.#used = 0;
    this.#absent = 0;
    if (this.#buf.length > KEEP_AT_MOST_BYTES) this.#buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  }

  #next(): number {
    const i = this.#count;
    if (i >= this.fields) throw new RangeError(`KeptStrings: field ${i} of ${this.fields}`);
    this.#count = i + 1;
    return i;
  }

  /** Keeps the next field (fields are pushed in order: 0, 1, ...). */
  push(value: string | undefined): void {
    const i = this.#next();
    const start = this.#used;
    const bounds = this.#bounds;
    bounds[2 * i] = start;
    if (value === undefined) {
      this.#absent |= 1 << i;
      bounds[2 * i + 1] = start;
      return;
    }
    const length = value.length;
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    const need = start + length * 3;
    if (need > this.#buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, this.#buf.length * 2));
      this.#buf.copy(bigger, 0, 0, start);
      this.#buf = bigger;
    }
    const buf = this.#buf;
    let end = start;
    if (length <= SHORT) {
      let k = 0;
      for (; k < length; k++) {
        const code = value.charCodeAt(k);
        if (code > 0x7f) break;
        buf[end++] = code;
      }
      // The rest from the first non-ASCII unit on, as UTF-8.
      if (k < length) end += buf.write(value.slice(k), end, 'utf8');
    } else {
      end += buf.write(value, start, 'utf8');
    }
    bounds[2 * i + 1] = end;
    this.#used = end;
  }

  /** Keeps the next field with the same text as field `earlier` (pushed before): no bytes are copied. */
  repeat(earlier: number): void {
    if (earlier >= this.#count) throw new RangeError(`KeptStrings: field ${earlier} repeated before it was pushed`);
    const i = this.#next();
    const bounds = this.#bounds;
    bounds[2 * i] = bounds[2 * earlier]!;
    bounds[2 * i + 1] = bounds[2 * earlier + 1]!;
    if ((this.#absent & (1 << earlier)) !== 0) this.#absent |= 1 << i;
  }

  /** Field i as it was pushed (undefined when it was undefined, or not pushed since the last clear). */
  get(i: number): string | undefined {
    if (i >= this.#count || (this.#absent & (1 << i)) !== 0) return undefined;
    const start = this.#bounds[2 * i]!;
    const end = this.#bounds[2 * i + 1]!;
    return start === end ? '' : this.#buf.toString('utf8', start, end);
  }
}
