/**
 * What every admin request passes before any handler sees it: a well-formed request-target,
 * a Host that is this server (DNS rebinding), a same-origin writer (cross-site requests), a
 * bearer token when one is required, a body of a known type under the size cap.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ApiStatusError } from '../../errors/index.js';

export interface GuardOptions {
  /** The address the server is bound to ('0.0.0.0' / '::' accept any IP literal). */
  readonly boundAddress: string;
  /** The bearer token of this server. */
  readonly token: string;
  /** Whether a request without the token is refused (always on a non-loopback address). */
  readonly requireToken: boolean;
  /** Largest request body accepted, in bytes (413 above). */
  readonly maxBodyBytes: number;
}

export interface Target {
  /** The request carried this server's bearer token. */
  readonly authenticated: boolean;
  /** Percent-decoded path segments ('' segments dropped). */
  readonly segments: readonly string[];
  readonly path: string;
  readonly query: URLSearchParams;
}

// RFC 3986 pchar plus '/': what an origin-form request-target's path may hold.
const PATH = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*)+$/;

/** origin-form (`/api/v1/pods?x=y`) or absolute-form (`http://host/api`); anything else is a 400. */
export function parseTarget(raw: string): Omit<Target, 'authenticated'> & { authority?: string } {
  let pathAndQuery = raw;
  let authority: string | undefined;
  if (!raw.startsWith('/')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ApiStatusError('BadRequest', `malformed request-target ${JSON.stringify(raw.slice(0, 200))}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new ApiStatusError('BadRequest', `unsupported scheme in request-target ${JSON.stringify(raw.slice(0, 200))}`);
    authority = url.host;
    pathAndQuery = `${url.pathname}${url.search}`;
  }
  const q = pathAndQuery.indexOf('?');
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  if (!PATH.test(path)) throw new ApiStatusError('BadRequest', `malformed request path ${JSON.stringify(path.slice(0, 200))}`);
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new ApiStatusError('BadRequest', `malformed percent-encoding in request path ${JSON.stringify(path.slice(0, 200))}`);
  }
  return { segments, path, query: new URLSearchParams(q < 0 ? '' : pathAndQuery.slice(q + 1)), ...(authority !== undefined ? { authority } : {}) };
}

function hostName(authority: string): string {
  const bracket = /^\[([^\]]*)\](?::\d*)?$/.exec(authority);
  if (bracket) return bracket[1]!.toLowerCase();
  const colon = authority.lastIndexOf(':');
  return (colon >= 0 && authority.indexOf(':') === colon ? authority.slice(0, colon) : authority).toLowerCase();
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * A page on another site can make a browser send requests here under its own name after
 * pointing it at 127.0.0.1 (DNS rebinding): only this server's own address, an IP literal
 * when bound to every address, or localhost is accepted.
 */
export function hostAllowed(authority: string, boundAddress: string): boolean {
  const name = hostName(authority);
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  if (WILDCARD.has(boundAddress)) return isIP(name) !== 0;
  return name === boundAddress.toLowerCase();
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Body media types the API reads: JSON, and the patch types kubectl sends. */
export const WRITE_MEDIA_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+yaml',
]);

/** Read for creates and updates of the few kinds src/api/kube/protobuf.ts decodes. */
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Throws the Status a request gets when it may not go further; returns the parsed target. */
export function checkRequest(req: IncomingMessage, options: GuardOptions): Target {
  const target = parseTarget(req.url ?? '');
  const host = target.authority ?? req.headers.host;
  if (host !== undefined && !hostAllowed(host, options.boundAddress)) {
    throw new ApiStatusError('Forbidden', `host ${JSON.stringify(host.slice(0, 200))} is not this server's address (use ${options.boundAddress} or localhost)`);
  }
  const method = req.method ?? 'GET';
  if (!SAFE_METHODS.has(method)) {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !originAllowed(origin, options.boundAddress)) {
      throw new ApiStatusError('Forbidden', `cross-origin ${method} from ${JSON.stringify(origin.slice(0, 200))} refused`);
    }
    if (origin === 'null' || req.headers['sec-fetch-site'] === 'cross-site') throw new ApiStatusError('Forbidden', `cross-site ${method} refused`);
  }
  const auth = req.headers.authorization;
  const authenticated = auth !== undefined;
  if (auth !== undefined || options.requireToken) {
    const given = /^Bearer\s+(\S+)\s*$/i.exec(auth ?? '')?.[1];
    if (given === undefined || !sameToken(given, options.token)) throw new ApiStatusError('Unauthorized', 'Unauthorized');
  }
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes);
  if (!SAFE_METHODS.has(method) && hasBody(req)) {
    const type = mediaType(req.headers['content-type']);
    // kubectl's typed generators (create namespace/configmap/secret/deployment) POST protobuf.
    const protobuf = type === PROTOBUF && (method === 'POST' || method === 'PUT');
    if (!WRITE_MEDIA_TYPES.has(type) && !protobuf) {
      throw new ApiStatusError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${[...WRITE_MEDIA_TYPES, PROTOBUF].join(', ')}`,
      );
    }
  }
  return { ...target, authenticated };
}

function originAllowed(origin: string, boundAddress: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && hostAllowed(url.host, boundAddress);
}

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

function tooLarge(max: number): ApiStatusError {
  return new ApiStatusError('RequestEntityTooLarge', `the request body is larger than the limit of ${max} bytes`);
}

/** Reads the body up to the cap; past it the request is refused without buffering more. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw tooLarge(max);
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks);
}
