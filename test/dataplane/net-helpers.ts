/** Tiny pods, clients and condition waits for data-plane tests (no sleeps: every wait has a condition). */
import { createServer as createHttpServer, get, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

const WAIT_LIMIT_MS = 10_000;

/** Poll `check` until it holds; fails naming `what` after a generous limit. */
export async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Everything one socket saw: data, FIN, error code, close. */
export class Reader {
  private chunks: Buffer[] = [];
  ended = false;
  closed = false;
  errorCode: string | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code ?? error.message;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }

  /** Resolves when `check` holds after some event on the socket. */
  until(check: (reader: Reader) => boolean, what: string): Promise<void> {
    if (check(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.text.slice(0, 200))}, error ${this.errorCode}, closed ${this.closed}`));
      }, WAIT_LIMIT_MS);
      const waiter = (): void => {
        if (!check(this)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  line(): Promise<string> {
    return this.until((r) => r.text.includes('\n'), 'a line').then(() => this.text.slice(0, this.text.indexOf('\n')));
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export function dial(host: string, port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Connect and read the pod's greeting `name remoteAddress`. */
export async function hello(host: string, port: number, localAddress?: string): Promise<{ pod: string; remote: string; reader: Reader }> {
  const reader = new Reader(await dial(host, port, localAddress));
  const [pod = '', remote = ''] = (await reader.line()).split(' ');
  return { pod, remote, reader };
}

/** How a connection attempt ends: an error code (ECONNREFUSED, ECONNRESET) or 'closed'. */
export function failure(host: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on('data', () => resolve('data'));
    socket.on('close', () => resolve('closed'));
  });
}

/**
 * A pod: greets each connection with `name remoteAddress\n` (unless `greet` is false),
 * echoes what it reads until it has sent its own FIN, and answers a FIN with `bye\n`
 * and its own FIN.
 */
export class PodServer {
  readonly sockets: Reader[] = [];
  private readonly server: Server;

  private constructor(
    readonly name: string,
    greet: boolean,
  ) {
    this.server = createServer({ allowHalfOpen: true }, (socket) => {
      this.sockets.push(new Reader(socket));
      if (greet) socket.write(`${name} ${socket.remoteAddress}\n`);
      socket.on('data', (chunk: Buffer) => {
        if (!socket.writableEnded && !socket.write(chunk)) socket.pause();
      });
      socket.on('drain', () => socket.resume());
      socket.on('end', () => {
        if (socket.writableEnded) return;
        if (greet) socket.end('bye\n');
        else socket.end();
      });
      socket.on('error', () => {});
    });
  }

  static async start(name: string, ip: string, port: number, greet = true): Promise<PodServer> {
    const pod = new PodServer(name, greet);
    await new Promise<void>((resolve, reject) => {
      pod.server.once('error', reject);
      pod.server.listen(port, ip, () => resolve());
    });
    return pod;
  }

  async close(): Promise<void> {
    for (const reader of this.sockets) reader.socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A node-side server for an LB probe whose answer the test controls. */
export class ProbeTargetServer {
  status = 200;
  private readonly server: HttpServer;

  private constructor() {
    this.server = createHttpServer((_, response) => {
      response.writeHead(this.status).end();
    });
  }

  static async start(ip: string, port: number): Promise<ProbeTargetServer> {
    const target = new ProbeTargetServer();
    await new Promise<void>((resolve, reject) => {
      target.server.once('error', reject);
      target.server.listen(port, ip, () => resolve());
    });
    return target;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpGet(host: string, port: number, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    get({ host, port, path, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}
