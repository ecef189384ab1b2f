/**
 * A strict parser of an upstream's HTTP/1.1 response head and chunked body, for the lean
 * upstream client (upstream-h1.ts). It refuses what nginx refuses from an upstream (the
 * request then fails with 502, as nginx's "upstream sent invalid header"), and what would
 * let an upstream desynchronise a pooled connection:
 *
 * - a status line that is not `HTTP/1.x NNN[ reason]` (nginx: "upstream sent no valid
 *   HTTP/1.0 header");
 * - a header line without a token name and a colon, a space before the colon, a value with
 *   a control character, and obs-fold (a line starting with a space or tab);
 * - Content-Length that is not all digits, or sent twice (nginx ≥ 1.23: "upstream sent
 *   duplicate header line");
 * - Transfer-Encoding other than `chunked`, sent twice, or together with Content-Length;
 * - a chunk size that is not hex digits (or overflows), data not followed by a line end.
 *
 * A line may end in CRLF or a bare LF, as nginx's parser accepts (ngx_http_parse_status_line
 * and ngx_http_parse_header_line treat LF alone as the end of a line); a CR not followed by
 * LF is refused. The head is read as latin1, so its bytes go to the client unchanged.
 */

/** The head is larger than this: 502 (undici's default limit, which aks-emu used before). */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

/** A response the proxy cannot relay faithfully: the try fails as nginx's invalid header (502). */
export class UpstreamResponseError extends Error {
  readonly code = 'AKS_EMU_UPSTREAM_INVALID_RESPONSE';
}

export type ResponseHeaders = Record<string, string | string[]>;

/** How the body is delimited. */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  readonly status: number;
  /** Header names lowercased; a repeated name gets an array, in order. */
  readonly headers: ResponseHeaders;
  readonly framing: Framing;
  /** framing 'length': the body's size. */
  readonly length: number;
  /** The connection may carry another request after this response. */
  readonly keepAlive: boolean;
}

/** The reason phrase is checked apart, with BAD_VALUE. */
const STATUS_LINE = /^HTTP\/1\.([0-9]) ([1-9][0-9][0-9])(?:[ \t](.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^[0-9]+$/;

function fail(message: string): never {
  throw new UpstreamResponseError(`upstream sent an invalid response: ${message}`);
}

/**
 * Where the head in buf[from, end) ends: the index just past its blank line, or -1 when
 * more bytes are needed.
 */
export function headEnd(buf: Buffer, from: number, end: number): number {
  let i = buf.indexOf(10, from);
  while (i >= 0 && i < end) {
    const next = buf[i + 1];
    if (next === 10) return i + 2;
    if (next === 13 && buf[i + 2] === 10) return i + 3;
    if (i + 2 >= end) return -1;
    i = buf.indexOf(10, i + 1);
  }
  return -1;
}

/** Lines of a head (its blank line excluded): CRLF or bare LF; a stray CR is refused. */
function line(text: string, start: number): [string, number] {
  const lf = text.indexOf('\n', start);
  const stop = lf < 0 ? text.length : lf;
  const cut = stop > start && text.charCodeAt(stop - 1) === 13 ? stop - 1 : stop;
  const content = text.slice(start, cut);
  if (content.includes('\r')) fail('a CR inside a line');
  return [content, lf < 0 ? text.length : lf + 1];
}

/**
 * Parses one response head (the latin1 text up to and including its blank line) to a
 * request of `method`.
 */
export function parseResponseHead(text: string, method: string): ResponseHead {
  const [statusLine, afterStatus] = line(text, 0);
  let at = afterStatus;
  const m = STATUS_LINE.exec(statusLine);
  if (!m || BAD_VALUE.test(m[3] ?? '')) fail(`status line ${JSON.stringify(statusLine.slice(0, 64))}`);
  const minor = Number(m[1]);
  const status = Number(m[2]);
  const headers: ResponseHeaders = {};
  let length = -1;
  let chunked = false;
  let close = minor === 0;
  for (;;) {
    let content: string;
    [content, at] = line(text, at);
    if (content === '') break;
    const first = content.charCodeAt(0);
    if (first === 32 || first === 9) fail('obs-fold (a header line starting with whitespace)');
    const colon = content.indexOf(':');
    if (colon <= 0) fail('a header line without a name and a colon');
    const name = content.slice(0, colon);
    if (!TOKEN.test(name)) fail(`header name ${JSON.stringify(name.slice(0, 64))}`);
    const value = content.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) fail(`a control character in header ${name}`);
    const key = name.toLowerCase();
    if (key === 'content-length') {
      if (length >= 0) fail('Content-Length twice');
      if (!DIGITS.test(value)) fail(`Content-Length ${JSON.stringify(value.slice(0, 32))}`);
      length = Number(value);
      if (!Number.isSafeInteger(length)) fail('Content-Length too large');
    } else if (key === 'transfer-encoding') {
      if (chunked) fail('Transfer-Encoding twice');
      if (value.toLowerCase() !== 'chunked') fail(`Transfer-Encoding ${JSON.stringify(value.slice(0, 32))}`);
      chunked = true;
    } else if (key === 'connection') {
      for (const token of value.toLowerCase().split(',')) {
        const t = token.trim();
        if (t === 'close') close = true;
        else if (t === 'keep-alive' && minor === 0) close = false;
      }
    }
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else if (typeof existing === 'string') headers[key] = [existing, value];
    else existing.push(value);
  }
  if (length >= 0 && chunked) fail('both Content-Length and Transfer-Encoding');
  // RFC 9112 §6.3: no body after HEAD, 1xx, 204 and 304, whatever the head says.
  const bodyless = method === 'HEAD' || status < 200 || status === 204 || status === 304;
  const framing: Framing = bodyless ? 'none' : chunked ? 'chunked' : length >= 0 ? 'length' : 'close';
  return { status, headers, framing, length: length < 0 ? 0 : length, keepAlive: !close && framing !== 'close' };
}

const enum ChunkState {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** 15 hex digits: sizes up to 2^60, far above any body a proxy relays, and exact in a double. */
const MAX_SIZE_DIGITS = 15;

/**
 * De-chunks a body as ngx_http_parse_chunked does, strictly: hex size (at least one digit),
 * an optional extension after `;`, space or tab (ignored), CRLF or LF; the data then CRLF
 * or LF; after the last chunk, trailer lines (dropped) up to a blank line.
 */
export class ChunkedDecoder {
  #state = ChunkState.Size;
  #size = 0;
  #digits = 0;
  #left = 0;
  #lineBytes = 0;

  get done(): boolean {
    return this.#state === ChunkState.Done;
  }

  /**
   * Feeds buf[from, end); calls `data` with each piece of body (views of buf, not copies).
   * Returns the index where the body ended (bytes after it are not the body's), or end.
   */
  feed(buf: Buffer, from: number, end: number, data: (piece: Buffer) => void): number {
    let i = from;
    while (i < end) {
      const state = this.#state;
      if (state === ChunkState.Data) {
        const n = Math.min(this.#left, end - i);
        data(buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = ChunkState.DataCr;
        continue;
      }
      if (state === ChunkState.Done) return i;
      const c = buf[i++]!;
      switch (state) {
        case ChunkState.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) fail('a chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits === 0) {
            fail('a chunk size that is not hexadecimal');
          } else if (c === 13) {
            this.#state = ChunkState.SizeLf;
          } else if (c === 10) {
            this.#sized();
          } else if (c === 59 || c === 32 || c === 9) {
            this.#state = ChunkState.Extension;
          } else {
            fail('a chunk size that is not hexadecimal');
          }
          break;
        }
        case ChunkState.Extension:
          if (c === 13) this.#state = ChunkState.SizeLf;
          else if (c === 10) this.#sized();
          else if (c < 32 && c !== 9) fail('a control character in a chunk extension');
          break;
        case ChunkState.SizeLf:
          if (c !== 10) fail('a chunk size line not ended by LF');
          this.#sized();
          break;
        case ChunkState.DataCr:
          if (c === 13) this.#state = ChunkState.DataLf;
          else if (c === 10) this.#state = ChunkState.Size;
          else fail('chunk data longer than its size');
          break;
        case ChunkState.DataLf:
          if (c !== 10) fail('chunk data not ended by CRLF');
          this.#state = ChunkState.Size;
          break;
        case ChunkState.Trailer:
          if (c === 10) {
            if (this.#lineBytes === 0) this.#state = ChunkState.Done;
            this.#lineBytes = 0;
          } else if (c === 13) {
            this.#state = ChunkState.TrailerLf;
          } else {
            if (++this.#lineBytes > MAX_RESPONSE_HEAD_BYTES) fail('a trailer line too long');
          }
          break;
        case ChunkState.TrailerLf:
          if (c !== 10) fail('a trailer line not ended by LF');
          this.#state = this.#lineBytes === 0 ? ChunkState.Done : ChunkState.Trailer;
          this.#lineBytes = 0;
          break;
      }
    }
    return this.#state === ChunkState.Done ? i : end;
  }

  #sized(): void {
    this.#left = this.#size;
    this.#state = this.#size === 0 ? ChunkState.Trailer : ChunkState.Data;
    this.#size = 0;
    this.#digits = 0;
    this.#lineBytes = 0;
  }
}
