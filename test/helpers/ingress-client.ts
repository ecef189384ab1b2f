/**
 * Clients for end-to-end ingress tests: undici on a fresh connection per request (so the
 * Azure LB sees a new flow each time), and raw sockets for what undici hides (several
 * requests on one connection, chunked bodies, the served certificate).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Client } from 'undici';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** What the built-in echo pod answers (src/pods/echo/echo-http.ts); headers are Go-canonical. */
export interface EchoReply {
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly headers: Record<string, string[]>;
  readonly pod: string;
  readonly node: string;
  /** The controller pod that connected, and the address it dialled. */
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly bodyLength: number;
}

export interface SendOptions {
  readonly host?: string;
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  readonly localAddress?: string;
  /** HTTPS to port 443 with this SNI name, trusting only `ca` when given. */
  readonly tls?: { readonly servername: string; readonly ca?: string };
}

/** An undici Client (one connection) to the frontend `ip`: port 80, or 443 with TLS. */
export function clientFor(ip: string, options: Pick<SendOptions, 'localAddress' | 'tls'> = {}): Client {
  const tls = options.tls;
  const origin = tls ? `https://${ip}:443` : `http://${ip}:80`;
  return new Client(origin, {
    localAddress: options.localAddress,
    connect: tls ? { servername: tls.servername, ca: tls.ca, rejectUnauthorized: tls.ca !== undefined } : undefined,
  });
}

/** One request on `client`'s connection; the Host header defaults to undici's (the IP). */
export async function sendWith(client: Client, path: string, options: SendOptions = {}): Promise<Reply> {
  const headers = { ...options.headers, ...(options.host === undefined ? {} : { host: options.host }) };
  const res = await client.request({ path, method: options.method ?? 'GET', headers, body: options.body });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** One request on a connection of its own, closed afterwards. */
export async function send(ip: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const client = clientFor(ip, options);
  try {
    return await sendWith(client, path, options);
  } finally {
    await client.close();
  }
}

/** The echo pod's report; anything but a 200 is a failure worth its body in the message. */
export function echoOf(reply: Reply): EchoReply {
  if (reply.status !== 200) throw new Error(`expected 200 from an echo pod, got ${reply.status}: ${reply.body.slice(0, 200)}`);
  return JSON.parse(reply.body) as EchoReply;
}

export async function echo(ip: string, path: string, options: SendOptions = {}): Promise<EchoReply> {
  return echoOf(await send(ip, path, options));
}

export interface RawReply extends Reply {
  readonly statusLine: string;
}

/** Parses HTTP/1.1 responses with a Content-Length (every response the controller sends here has one). */
class ResponseReader {
  #buffer = Buffer.alloc(0);
  readonly #waiting: { resolve: (r: RawReply) => void; reject: (e: Error) => void }[] = [];

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const waiter = this.#waiting[0];
      const reply = waiter && this.#take();
      if (!waiter || !reply) return;
      this.#waiting.shift();
      waiter.resolve(reply);
    }
  }

  fail(err: Error): void {
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }

  next(): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.push(Buffer.alloc(0));
    });
  }

  #take(): RawReply | undefined {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine = '', ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string | string[]> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const length = headers['content-length'];
    if (typeof length !== 'string') throw new Error(`raw client: response without one Content-Length: ${statusLine}`);
    const total = end + 4 + Number(length);
    if (this.#buffer.length < total) return undefined;
    const body = this.#buffer.subarray(end + 4, total).toString('utf8');
    this.#buffer = this.#buffer.subarray(total);
    return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body };
  }
}

/** A raw HTTP/1.1 connection: write request bytes, read whole responses in order. */
export class RawConnection {
  readonly socket: Socket;
  readonly #reader = new ResponseReader();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', (err) => this.#reader.fail(err));
    socket.on('close', () => this.#reader.fail(new Error('raw client: connection closed before a whole response')));
  }

  static open(ip: string, port: number, options: { localAddress?: string } = {}): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: ip, port, localAddress: options.localAddress });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Writes one request (text with CRLFs, or bytes) and resolves with the next response. */
  exchange(request: string | Buffer): Promise<RawReply> {
    const reply = this.#reader.next();
    this.socket.write(request);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The certificate the controller presents for an SNI name (no HTTP exchanged). */
export function servedCertificate(ip: string, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: ip, port: 443, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

/** Pipelined requests: every request written at once (one buffer), the responses read in order. */
export function pipeline(ip: string, port: number, requests: readonly string[]): Promise<RawReply[]> {
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader();
    const socket = netConnect({ host: ip, port });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (err) => reader.fail(err));
    socket.on('close', () => reader.fail(new Error('pipelined client: connection closed before every response')));
    const replies = Promise.all(requests.map(() => reader.next()));
    socket.write(requests.join(''));
    replies.then(
      (all) => {
        socket.destroy();
        resolve(all);
      },
      (err: Error) => {
        socket.destroy();
        reject(err);
      },
    );
  });
}
