/**
 * The ingress controller's access log as `kubectl logs` shows it: the latest requests in
 * ingress-nginx's log-format-upstream, one line each. What a line says is recorded with
 * the request's trace (http.ts: numbers, and references to strings the request already
 * had); the text is made only when the log is read or followed, so a request the log
 * records costs no formatting. The ring keeps a fixed number of lines, oldest dropped
 * first, so memory stays bounded however long the controller runs. The ring holds its
 * records (retain/release): a record is reused for a later request only once neither this
 * ring, the trace ring nor its request holds it, and every line is made when read.
 */
import { accessLogLine, type HttpTrace } from './http.js';
import { Ring } from './ring.js';

/** Lines kept: about what 512 KiB of typical lines would hold. */
export const ACCESS_LOG_LINES = 2048;

export class AccessLog {
  readonly #ring: Ring<HttpTrace>;

  constructor(capacity = ACCESS_LOG_LINES) {
    this.#ring = new Ring(capacity);
  }

  /** A finished request the log records; followers get its line now. */
  add(trace: HttpTrace): void {
    trace.retain();
    this.#ring.push(trace)?.release();
    if (this.#ring.following) this.#ring.announce(trace);
  }

  /** The log's text, oldest line first, each ending in a newline ('' when empty). */
  text(): string {
    const traces = this.#ring.items();
    if (traces.length === 0) return '';
    let out = '';
    for (const trace of traces) out += `${accessLogLine(trace)}\n`;
    return out;
  }

  /** Every line logged from now on, until the returned function is called. */
  follow(onLine: (line: string) => void): () => void {
    return this.#ring.follow((trace) => onLine(accessLogLine(trace)));
  }
}
