/**
 * A container's output as kubelet keeps it for `kubectl logs`: the current instance and
 * the previous one (`--previous`), each bounded in bytes (oldest lines dropped first), so
 * a process that floods its output costs a fixed amount of memory. Followers (`-f`) get
 * every line as it comes.
 */
import { EventEmitter } from 'node:events';

/** Per container instance; kubelet's default container-log-max-size is 10 MiB, aks-emu keeps less in memory. */
export const LOG_RING_BYTES = 1024 * 1024;
/** A line longer than this is cut (a flood without newlines must not grow one line forever). */
const MAX_LINE = 16 * 1024;

class Ring {
  lines: string[] = [];
  head = 0;
  bytes = 0;
  dropped = 0;

  push(line: string, cap: number): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    while (this.bytes > cap && this.head < this.lines.length) {
      this.bytes -= this.lines[this.head]!.length + 1;
      this.head++;
      this.dropped++;
    }
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  text(): string {
    const kept = this.lines.slice(this.head);
    return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
  }
}

export class LogRing extends EventEmitter<{ line: [string]; restart: [] }> {
  #current = new Ring();
  #previous: Ring | undefined;
  readonly #partial = { stdout: '', stderr: '' };
  readonly #cap: number;

  constructor(cap = LOG_RING_BYTES) {
    super();
    this.#cap = cap;
  }

  /** Bytes of one stream; whole lines are kept, a trailing partial line waits for its end. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const text = this.#partial[stream] + chunk.toString();
    const parts = text.split('\n');
    let rest = parts.pop() ?? '';
    for (const line of parts) this.#line(line);
    while (rest.length > MAX_LINE) {
      this.#line(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
    this.#partial[stream] = rest;
  }

  /** One whole line on stdout (an access log line): no split or join when nothing is pending. */
  writeLine(line: string): void {
    if (this.#partial.stdout === '' && line.length <= MAX_LINE && !line.includes('\n')) this.#line(line);
    else this.write('stdout', `${line}\n`);
  }

  /** The instance ended: flush partial lines; its output becomes `--previous`. */
  endInstance(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') this.#line(this.#partial[stream]);
      this.#partial[stream] = '';
    }
  }

  /** A new instance starts with an empty log. */
  newInstance(): void {
    this.#previous = this.#current;
    this.#current = new Ring();
    this.emit('restart');
  }

  current(): string {
    return this.#current.text();
  }

  /** undefined when there was no previous instance (kubectl: "previous terminated container ... not found"). */
  previous(): string | undefined {
    return this.#previous?.text();
  }

  get droppedLines(): number {
    return this.#current.dropped;
  }

  #line(line: string): void {
    this.#current.push(line, this.#cap);
    this.emit('line', line);
  }
}
