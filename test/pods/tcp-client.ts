import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A raw TCP client: write bytes, read what comes back, see ends and closes; no HTTP library in between. */
export class TcpClient {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  static connect(host: string, port: number, localAddress?: string): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress, allowHalfOpen: true });
      socket.once('connect', () => resolve(new TcpClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Half-closes: sends FIN, keeps reading. */
  end(): void {
    this.socket.end();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Waits until `take` finds a complete message at the start of the buffer, and removes it. */
  async #read<T>(take: (buffer: Buffer) => { value: T; used: number } | undefined): Promise<T> {
    for (;;) {
      const got = take(this.#buffer);
      if (got) {
        this.#buffer = this.#buffer.subarray(got.used);
        return got.value;
      }
      if (this.#ended) throw new Error(`connection ended with ${this.#buffer.length} unread bytes`);
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Everything until the peer ends its side. */
  async readToEnd(): Promise<Buffer> {
    while (!this.#ended) await new Promise<void>((resolve) => (this.#wake = resolve));
    const all = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return all;
  }

  readBytes(n: number): Promise<Buffer> {
    return this.#read((b) => (b.length >= n ? { value: Buffer.from(b.subarray(0, n)), used: n } : undefined));
  }

  /** One HTTP/1.1 response framed by Content-Length (the echo pod always sends one). */
  readResponse(): Promise<RawResponse> {
    return this.#read((b) => {
      const headEnd = b.indexOf('\r\n\r\n');
      if (headEnd < 0) return undefined;
      const [statusLine = '', ...lines] = b.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      const length = Number(headers['content-length'] ?? 0);
      if (b.length < headEnd + 4 + length) return undefined;
      const body = b.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
      return { value: { status: Number(statusLine.split(' ')[1]), headers, body }, used: headEnd + 4 + length };
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
