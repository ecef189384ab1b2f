/**
 * How `lb` and `node` containers talk to `control`: a watch that delivers every new
 * snapshot (and starts over, from the current one, whenever the stream breaks, so a
 * restarted container or a restarted control resyncs by itself), and JSON reports.
 */
import { get, request, type ClientRequest } from 'node:http';

import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import { SyncRunner } from '../sync-runner.js';
import { WATCH_PATH } from './protocol.js';

/** Reconnect back-off: quick enough for a test, gentle on a control that is down for long. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2_000;
/** Probes a silent stream so that a control that vanished without a FIN is noticed. */
const KEEPALIVE_MS = 5_000;

export type SnapshotHandler = (snapshot: Snapshot) => void;

/** One of control's NDJSON watches: each line to `onLine`; a broken stream starts over from control's current state. */
export class NdjsonWatch<T> {
  #request: ClientRequest | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryMs = RETRY_MIN_MS;
  #stopped = false;

  constructor(
    private readonly controlUrl: string,
    private readonly path: string,
    private readonly onLine: (value: T) => void,
    private readonly log: (line: string) => void = () => {},
  ) {}

  start(): void {
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#request?.destroy();
  }

  #connect(): void {
    if (this.#stopped) return;
    let buffered = '';
    const req = get(new URL(this.path, this.controlUrl), (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.#retry(`watch answered HTTP ${res.statusCode}`);
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n');
        while (end >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          end = buffered.indexOf('\n');
          if (line.trim() === '') continue;
          let value: T;
          try {
            value = JSON.parse(line) as T;
          } catch {
            this.#retry('the watch sent a line that is not JSON');
            return;
          }
          this.#retryMs = RETRY_MIN_MS;
          this.onLine(value);
        }
      });
      res.on('end', () => this.#retry('control closed the watch'));
      res.on('error', (err) => this.#retry(err.message));
    });
    req.on('socket', (socket) => socket.setKeepAlive(true, KEEPALIVE_MS));
    req.on('error', (err: NodeJS.ErrnoException) => this.#retry(err.code ?? err.message));
    this.#request = req;
  }

  #retry(why: string): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#request?.destroy();
    this.log(`watch of ${new URL(this.path, this.controlUrl).href}: ${why}; reconnecting in ${this.#retryMs} ms`);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }
}

export class SnapshotWatch extends NdjsonWatch<Snapshot> {
  constructor(controlUrl: string, onSnapshot: SnapshotHandler, log?: (line: string) => void) {
    super(controlUrl, WATCH_PATH, onSnapshot, log);
  }
}

/** POSTs a JSON report and returns the JSON reply; rejects on a network error or a non-2xx answer. */
export function postJson<T>(controlUrl: string, path: string, body: unknown, timeoutMs = 5_000): Promise<T> {
  const payload = JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request(
      new URL(path, controlUrl),
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) {
            reject(new AksEmuError('AKS_EMU_SERVER_UNREACHABLE', `control answered HTTP ${res.statusCode} to ${path}: ${text}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from control within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(
        new AksEmuError('AKS_EMU_SERVER_UNREACHABLE', `cannot reach control at ${controlUrl}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, {
          cause: err,
        }),
      ),
    );
    req.end(payload);
  });
}

/**
 * Follows control's snapshots: applies the latest one, one at a time; versions that a
 * newer one overtook while an apply ran are skipped (kube-proxy syncs whole states).
 */
export class SnapshotFollower {
  readonly #watch: SnapshotWatch;
  readonly #sync: SyncRunner;
  #latest: Snapshot | undefined;
  #applied: Snapshot | undefined;
  #stopped = false;

  constructor(controlUrl: string, apply: (snapshot: Snapshot) => Promise<void>, log: (line: string) => void) {
    this.#sync = new SyncRunner(
      async () => {
        const snapshot = this.#latest;
        if (snapshot === undefined || snapshot === this.#applied || this.#stopped) return;
        await apply(snapshot);
        this.#applied = snapshot;
      },
      (err) => log(`error: ${(err as Error).message}`),
    );
    this.#watch = new SnapshotWatch(
      controlUrl,
      (snapshot) => {
        this.#latest = snapshot;
        void this.#sync.request();
      },
      log,
    );
  }

  /** The snapshot last applied in full. */
  get applied(): Snapshot | undefined {
    return this.#applied;
  }

  start(): void {
    this.#watch.start();
  }

  /** Stops following; resolves once a running apply has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch.stop();
    await this.#sync.idle();
  }
}
