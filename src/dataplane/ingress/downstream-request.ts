/**
 * The request head parser of the lean downstream server (downstream-h1.ts): strict where a
 * lenient reading could let a request be smuggled behind another, as nginx's
 * `ngx_http_parse_request_line`/`ngx_http_parse_header_line` and Node's llhttp are:
 *
 * - Content-Length with Transfer-Encoding, Content-Length twice (even equal) or not all
 *   digits, Transfer-Encoding other than `chunked` (or on HTTP/1.0): 400;
 * - obs-fold, a space before the colon, a name that is not a token, a control character, a
 *   bare CR or a bare LF anywhere in the head: 400 (nginx takes a bare LF as a line end;
 *   Node and this parser refuse it);
 * - a method that is not a token, a request-target with a space or control character, a
 *   version other than HTTP/1.x: 400; HTTP/2+ in a request line: 505 (nginx);
 * - a request line longer than 8 KiB: 414 (nginx's large_client_header_buffers); a head
 *   over 16 KiB: 431 (Node's limit, which this listener had);
 * - a chunk size that is not hex, longer than 15 digits, or with a malformed extension: 400.
 *
 * Upgrades, CONNECT and HTTP/2's preface are marked `handOver`: the listener's http.Server serves them.
 */

/** Node's --max-http-header-size, the limit the controller's listeners had: request line and headers. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** nginx: a request line must fit one of the large_client_header_buffers (8k in ingress-nginx). */
const MAX_REQUEST_LINE = 8 * 1024;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  414: 'URI Too Long',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  505: 'HTTP Version Not Supported',
};

export class BadRequest extends Error {
  readonly reason: string;
  constructor(readonly status: number) {
    const reason = REASONS[status] ?? 'Bad Request';
    super(reason);
    this.reason = reason;
  }
}

/** A parsed request head, with what framing, keep-alive and routing need. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  /** `1.1` or `1.0`. */
  readonly httpVersion: string;
  /** Names lower-cased, repeated fields combined as Node's IncomingMessage combines them. */
  readonly headers: Record<string, string | string[]>;
  /** Names as sent, values trimmed, in order. */
  readonly rawHeaders: string[];
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** Not for the lean server: an upgrade, CONNECT or an HTTP/2 preface. */
  readonly handOver: boolean;
}

export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters other than HTAB (and so every CR and LF left inside a line). */
// eslint-disable-next-line no-control-regex -- the control bytes are what a header line must not hold
export const CONTROL = /[\0-\x08\n-\x1f\x7f]/;
/** A request-target: no space, no control character. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const DIGITS = /^\d{1,15}$/;

/** Fields of which Node keeps the first only (its IncomingMessage matchKnownFields). */
const FIRST_ONLY = new Set([
  'content-type',
  'content-length',
  'user-agent',
  'referer',
  'host',
  'authorization',
  'proxy-authorization',
  'if-modified-since',
  'if-unmodified-since',
  'from',
  'location',
  'max-forwards',
  'retry-after',
  'etag',
  'last-modified',
  'server',
  'age',
  'expires',
]);

function addHeader(headers: Record<string, string | string[]>, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) {
    headers[name] = name === 'set-cookie' ? [value] : value;
  } else if (name === 'set-cookie') {
    (existing as string[]).push(value);
  } else if (name === 'cookie') {
    headers[name] = `${existing as string}; ${value}`;
  } else if (!FIRST_ONLY.has(name)) {
    headers[name] = `${existing as string}, ${value}`;
  }
}

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower === token) return true;
  if (!lower.includes(token)) return false;
  for (const part of lower.split(',')) if (part.trim() === token) return true;
  return false;
}

function trimOws(value: string): string {
  let a = 0;
  let b = value.length;
  while (a < b && (value.charCodeAt(a) === 32 || value.charCodeAt(a) === 9)) a++;
  while (b > a && (value.charCodeAt(b - 1) === 32 || value.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === value.length ? value : value.slice(a, b);
}

/** Parses data[start, end) (without the final CRLF CRLF); throws BadRequest. */
export function parseRequestHead(data: Buffer, start: number, end: number): RequestHead {
  if (end - start > MAX_HEAD_BYTES) throw new BadRequest(431);
  const text = data.toString('latin1', start, end);
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  if (requestLine.length > MAX_REQUEST_LINE) throw new BadRequest(414);
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1 + 1) throw new BadRequest(400);
  const method = requestLine.slice(0, sp1);
  const url = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!TOKEN.test(method) || !TARGET.test(url)) throw new BadRequest(400);
  if (version.length !== 8 || !version.startsWith('HTTP/') || version.charCodeAt(6) !== 46) throw new BadRequest(400);
  const major = version.charCodeAt(5) - 48;
  const minor = version.charCodeAt(7) - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) throw new BadRequest(400);
  if (method === 'PRI' && url === '*' && major === 2) return handOverHead(method, url);
  if (major >= 2) throw new BadRequest(505);
  if (major !== 1) throw new BadRequest(400);
  const httpVersion = minor === 0 ? '1.0' : '1.1';

  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection: string | undefined;
  let expect: string | undefined;
  let upgrade = false;
  let pos = lineEnd < 0 ? text.length : lineEnd + 2;
  while (pos < text.length) {
    let next = text.indexOf('\r\n', pos);
    if (next < 0) next = text.length;
    const line = text.slice(pos, next);
    pos = next + 2;
    const colon = line.indexOf(':');
    // obs-fold (a line starting with SP or HTAB), a space before the colon, no colon: the name is not a token.
    if (colon <= 0) throw new BadRequest(400);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name) || CONTROL.test(line)) throw new BadRequest(400);
    const value = trimOws(line.slice(colon + 1));
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    switch (lower) {
      case 'content-length':
        if (contentLength !== undefined || !DIGITS.test(value)) throw new BadRequest(400);
        contentLength = value;
        break;
      case 'transfer-encoding':
        if (transferEncoding !== undefined) throw new BadRequest(400);
        transferEncoding = value;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
      case 'expect':
        expect = value;
        break;
      case 'upgrade':
        upgrade = true;
        break;
    }
    // A field named __proto__ would set the object's prototype: it is left out of headers (rawHeaders keeps it).
    if (lower !== '__proto__') addHeader(headers, lower, value);
  }

  let chunked = false;
  if (transferEncoding !== undefined) {
    // nginx (1.23+): only `chunked`, never with Content-Length, never on HTTP/1.0.
    if (contentLength !== undefined || httpVersion === '1.0' || transferEncoding.toLowerCase() !== 'chunked') throw new BadRequest(400);
    chunked = true;
  }
  const keepAlive = httpVersion === '1.1' ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive');
  const handOver = method === 'CONNECT' || (upgrade && hasToken(connection, 'upgrade'));
  let expectContinue = false;
  if (expect !== undefined && !handOver) {
    // Node's server: 100-continue is answered at once, any other expectation with 417.
    if (expect.toLowerCase() !== '100-continue') throw new BadRequest(417);
    expectContinue = httpVersion === '1.1';
  }
  return {
    method,
    url,
    httpVersion,
    headers,
    rawHeaders,
    contentLength: contentLength === undefined ? 0 : Number(contentLength),
    chunked,
    keepAlive,
    expectContinue,
    handOver,
  };
}

function handOverHead(method: string, url: string): RequestHead {
  return {
    method,
    url,
    httpVersion: '2.0',
    headers: {},
    rawHeaders: [],
    contentLength: 0,
    chunked: false,
    keepAlive: false,
    expectContinue: false,
    handOver: true,
  };
}

const HEX = /^[0-9a-fA-F]{1,15}$/;
/** A chunk extension: `;name[=token|quoted-string]`, with optional whitespace around `;` and `=`. */
const EXTENSIONS =
  // eslint-disable-next-line no-control-regex -- a quoted-string must not hold control bytes
  /^(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\\0-\x08\n-\x1f\x7f]|\\[\t \x21-\x7e\x80-\xff])*"))?)*[ \t]*$/;

/** The size of the chunk whose size line is data[0, eol); throws BadRequest. */
export function parseChunkSize(data: Buffer, eol: number): number {
  const line = data.toString('latin1', 0, eol);
  let i = 0;
  while (i < line.length && isHexDigit(line.charCodeAt(i))) i++;
  const hex = line.slice(0, i);
  if (!HEX.test(hex)) throw new BadRequest(400);
  if (i < line.length && !EXTENSIONS.test(line.slice(i))) throw new BadRequest(400);
  return parseInt(hex, 16);
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
