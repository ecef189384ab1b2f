import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  readonly event: string;
  readonly id?: string;
  readonly data: string;
}

/** A server-sent event stream read with Node's HTTP client, parsed as the EventSource spec says. */
export class SseStream {
  readonly events: SseEvent[] = [];
  /** Comment lines (`: ...`) and the `retry:` fields seen. */
  readonly comments: string[] = [];
  retry: number | undefined;
  ended = false;
  #waiters: (() => void)[] = [];
  #res: IncomingMessage | undefined;

  private constructor() {}

  static open(url: string): Promise<{ stream: SseStream; response: IncomingMessage }> {
    const stream = new SseStream();
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        stream.#res = res;
        let buffer = '';
        let fields: { event?: string; id?: string; data: string[] } = { data: [] };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).replace(/\r$/, '');
            buffer = buffer.slice(nl + 1);
            if (line === '') {
              if (fields.data.length > 0)
                stream.events.push({ event: fields.event ?? 'message', ...(fields.id !== undefined ? { id: fields.id } : {}), data: fields.data.join('\n') });
              fields = { data: [] };
              stream.#wake();
              continue;
            }
            if (line.startsWith(':')) {
              stream.comments.push(line.slice(1).trim());
              continue;
            }
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'data') fields.data.push(value);
            else if (name === 'event') fields.event = value;
            else if (name === 'id') fields.id = value;
            else if (name === 'retry') stream.retry = Number(value);
          }
        });
        res.on('end', () => {
          stream.ended = true;
          stream.#wake();
        });
        res.on('error', () => {
          stream.ended = true;
          stream.#wake();
        });
        resolve({ stream, response: res });
      });
      req.on('error', reject);
      req.end();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The first event after `after` events (default: any seen so far) that matches; rejects after `timeoutMs` or at the end of the stream. */
  async next<T>(parse: (e: SseEvent) => T | undefined, options: { after?: number; timeoutMs?: number } = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let index = options.after ?? 0;
    for (;;) {
      for (; index < this.events.length; index++) {
        const found = parse(this.events[index]!);
        if (found !== undefined) return found;
      }
      if (this.ended) throw new Error(`the stream ended after ${this.events.length} events without the one awaited`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event in ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#res?.destroy();
  }
}
