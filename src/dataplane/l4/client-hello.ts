/**
 * The server name of a TLS ClientHello, read from a connection's first bytes without
 * consuming them (for passthrough routing by SNI, as Envoy's tls_inspector does). The
 * hello may span several handshake records; it is bounded, and anything that is not a
 * well-formed ClientHello is `malformed`.
 */

/** A ClientHello larger than this is refused (Envoy's tls_inspector default max is 64 KiB; real hellos are < 2 KiB). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;

export type ClientHelloPeek =
  | { readonly state: 'incomplete' }
  | { readonly state: 'malformed'; readonly reason: string }
  /** `serverName` undefined: the hello carries no SNI. */
  | { readonly state: 'complete'; readonly serverName: string | undefined };

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;

const bad = (reason: string): ClientHelloPeek => ({ state: 'malformed', reason });

/** The handshake bytes of the leading handshake records, or what is wrong. */
function handshakeBytes(data: Buffer): Buffer | ClientHelloPeek {
  const parts: Buffer[] = [];
  let total = 0;
  let offset = 0;
  for (;;) {
    if (data.length < offset + 5) return parts.length > 0 ? Buffer.concat(parts) : { state: 'incomplete' };
    if (data[offset] !== RECORD_HANDSHAKE) return parts.length > 0 ? Buffer.concat(parts) : bad('not a TLS handshake record');
    if (data[offset + 1] !== 0x03) return bad('unknown TLS record version');
    const length = data.readUInt16BE(offset + 3);
    if (length === 0) return bad('empty handshake record');
    if (data.length < offset + 5 + length) return parts.length > 0 ? Buffer.concat(parts) : { state: 'incomplete' };
    parts.push(data.subarray(offset + 5, offset + 5 + length));
    total += length;
    offset += 5 + length;
    if (total > MAX_CLIENT_HELLO_BYTES) return bad('ClientHello too large');
  }
}

export function peekClientHello(data: Buffer): ClientHelloPeek {
  if (data.length > MAX_CLIENT_HELLO_BYTES + 1024) return bad('ClientHello too large');
  const hs = handshakeBytes(data);
  if (!Buffer.isBuffer(hs)) return hs;
  if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return bad('first handshake message is not a ClientHello');
  if (hs.length < 4) return { state: 'incomplete' };
  const length = hs.readUIntBE(1, 3);
  if (length > MAX_CLIENT_HELLO_BYTES) return bad('ClientHello too large');
  if (hs.length < 4 + length) return { state: 'incomplete' };
  return serverName(hs.subarray(4, 4 + length));
}

/** Walks the ClientHello body to the server_name extension. */
function serverName(body: Buffer): ClientHelloPeek {
  let p = 2 + 32; // legacy_version, random
  const need = (n: number) => p + n <= body.length;
  if (!need(1)) return bad('truncated ClientHello');
  p += 1 + (body[p] ?? 0); // session id
  if (!need(2)) return bad('truncated ClientHello');
  p += 2 + body.readUInt16BE(p); // cipher suites
  if (!need(1)) return bad('truncated ClientHello');
  p += 1 + (body[p] ?? 0); // compression methods
  if (p === body.length) return { state: 'complete', serverName: undefined };
  if (!need(2)) return bad('truncated ClientHello');
  const end = p + 2 + body.readUInt16BE(p);
  if (end > body.length) return bad('extensions overrun the ClientHello');
  p += 2;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return bad('extension overruns the ClientHello');
    if (type === EXTENSION_SERVER_NAME) return hostName(body.subarray(p, p + len));
    p += len;
  }
  return p === end ? { state: 'complete', serverName: undefined } : bad('truncated extension');
}

function hostName(ext: Buffer): ClientHelloPeek {
  if (ext.length < 2 || ext.readUInt16BE(0) !== ext.length - 2) return bad('malformed server_name extension');
  let p = 2;
  while (p + 3 <= ext.length) {
    const type = ext[p];
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + len > ext.length) return bad('malformed server_name extension');
    if (type === HOST_NAME) {
      const name = ext.subarray(p, p + len).toString('latin1');
      if (name === '' || !/^[A-Za-z0-9.-]+$/.test(name)) return bad('invalid server name');
      return { state: 'complete', serverName: name.toLowerCase().replace(/\.$/, '') };
    }
    p += len;
  }
  return bad('malformed server_name extension');
}
