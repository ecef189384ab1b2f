/**
 * Bodies of a requested size (`GET /anything?size=N`), for throughput tests through the
 * data plane. Every answer is a slice of one shared filler buffer, grown on demand, so a
 * response costs no allocation or copy however large it is.
 */

/** Large enough for any benchmark body, small enough that one client cannot pin much memory. */
export const MAX_SIZED_BODY = 64 * 1024 * 1024;

const FILLER_PATTERN = 'aks-emu ';
let filler = Buffer.alloc(0);

/**
 * The `size` query parameter: undefined when absent, NaN when it is not a whole number
 * of bytes within MAX_SIZED_BODY. `query` is the index of '?' in url (or -1).
 */
export function requestedSize(url: string, query: number): number | undefined {
  if (query < 0) return undefined;
  let start: number;
  if (url.startsWith('size=', query + 1)) start = query + 6;
  else {
    const amp = url.indexOf('&size=', query);
    if (amp < 0) return undefined;
    start = amp + 6;
  }
  let end = url.indexOf('&', start);
  if (end < 0) end = url.length;
  const digits = url.slice(start, end);
  if (!/^\d{1,9}$/.test(digits)) return Number.NaN;
  const size = Number(digits);
  return size <= MAX_SIZED_BODY ? size : Number.NaN;
}

/** `size` bytes of filler (size ≤ MAX_SIZED_BODY); the buffer is shared: callers must not write to it. */
export function sizedBody(size: number): Buffer {
  if (filler.length < size) filler = Buffer.alloc(Math.min(MAX_SIZED_BODY, Math.max(size, filler.length * 2)), FILLER_PATTERN);
  return filler.subarray(0, size);
}
