/**
 * A small request/response protocol over Node's IPC channel, shared by the harness and
 * its two children (the aks-emu process and the load generator). Keeping them apart
 * means the CPU and RSS we read from /proc belong to one role only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request {
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

interface Reply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** A one-way announcement from a child (`ready`, `failed`). */
export interface Notice {
  readonly notice: string;
  readonly data?: unknown;
}

export type Handlers = Record<string, (params: never) => unknown>;

/** In a child: answer the parent's calls; every handler may be async. */
export function serveParent(handlers: Handlers): void {
  process.on('message', (message: Request) => {
    if (typeof message !== 'object' || message === null || typeof message.id !== 'number') return;
    const handler = handlers[message.method];
    const reply = (r: Omit<Reply, 'id'>): void => {
      if (process.connected) process.send?.({ id: message.id, ...r });
    };
    if (!handler) return reply({ error: `unknown method ${message.method}` });
    Promise.resolve()
      .then(() => handler(message.params as never))
      .then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
      );
  });
}

/** Children exit when the harness closes the channel (or dies): nothing is left behind. */
export function exitWithParent(cleanup: () => Promise<void>): void {
  process.once('disconnect', () => {
    void cleanup().finally(() => process.exit(0));
  });
}

export function announce(notice: string, data?: unknown): void {
  process.send?.({ notice, data } satisfies Notice);
}

export interface SpawnOptions {
  /** The child's entry, relative to perf/. */
  readonly entry: string;
  /** Raise the open-file limit this high (capped at the hard limit) before exec. */
  readonly fileLimit: number;
  /** CPUs to pin to (taskset -c), or undefined for none. */
  readonly cpus?: string;
  readonly nodeArgs?: readonly string[];
  readonly env?: Record<string, string>;
}

/**
 * Spawns `node --import tsx perf/<entry>` through `sh -c 'ulimit -n ...; exec ...'`: Node
 * cannot raise its own RLIMIT_NOFILE, and `exec` keeps the PID, so /proc/<pid> is the
 * Node process itself.
 */
export function spawnChild(options: SpawnOptions): Child {
  const entry = fileURLToPath(new URL(options.entry, import.meta.url));
  const node = [process.execPath, '--import', 'tsx', ...(options.nodeArgs ?? []), entry].map(shellQuote).join(' ');
  const pin = options.cpus === undefined ? '' : `taskset -c ${options.cpus} `;
  const script = `ulimit -n ${options.fileLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${pin}${node}`;
  const child = spawn('sh', ['-c', script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
  });
  return new Child(child);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The parent's handle on a child: calls, notices, exit. */
export class Child {
  readonly #process: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #noticeWaiters = new Map<string, (data: unknown) => void>();
  #nextId = 1;
  #exit: string | undefined;
  readonly exited: Promise<string>;

  constructor(child: ChildProcess) {
    this.#process = child;
    child.on('message', (message: Reply | Notice) => {
      if ('notice' in message) {
        this.#noticeWaiters.get(message.notice)?.(message.data);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.result);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        for (const p of this.#pending.values()) p.reject(new Error(`child ${this.#exit}`));
        this.#pending.clear();
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.#process.pid ?? -1;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  call<T>(method: string, params: unknown = {}): Promise<T> {
    if (this.#exit !== undefined) return Promise.reject(new Error(`child ${this.#exit}`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#process.send({ id, method, params } satisfies Request);
    });
  }

  /** Resolves with the first of `names` the child announces; rejects if it exits (or times out) first. */
  awaitNotice(names: readonly string[], timeoutMs: number): Promise<{ name: string; data: unknown }> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const name of names) this.#noticeWaiters.delete(name);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${names.join(' or ')} from the child within ${timeoutMs} ms`));
      }, timeoutMs);
      for (const name of names) {
        this.#noticeWaiters.set(name, (data) => {
          done();
          resolve({ name, data });
        });
      }
      void this.exited.then((why) => {
        done();
        reject(new Error(`child ${why} before ${names.join(' or ')}`));
      });
    });
  }

  /**
   * Asks politely (the `stop` call, then closing the channel, on which children exit), and
   * SIGKILLs this child only if it has not exited in time.
   */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.#exit !== undefined) return;
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), timeoutMs);
    await this.call('stop').catch(() => {});
    if (this.#process.connected) this.#process.disconnect();
    await this.exited;
    clearTimeout(timer);
  }
}
