/**
 * What an `lb` or `node` container keeps to be looked at and what it installs of the
 * faults: its own trace store, L7 counters and probe transitions (observability.ts, as
 * the embedded runtime keeps them), the fault table its hops read, compiled from
 * control's fault watch and the snapshot this role has applied, and a small HTTP endpoint
 * on its vnet address serving its GET /metrics and GET /aks-emu/v1/traces with the
 * admin API's own routes (observe-routes.ts). Control gathers from that endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { handleObserveRoute } from '../../api/observe-routes.js';
import { parseTarget } from '../../api/http/guard.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import type { DataPlane } from '../../dataplane/index.js';
import { listenerGuard } from '../../dataplane/l4/listener-guard.js';
import type { TraceQuery, TraceView } from '../../dataplane/observe/traces.js';
import { toStatus } from '../../errors/index.js';
import { compileFaultTable, FaultState, type ActiveFault, type FaultHolder } from '../../faults/compile.js';
import { Observability } from '../observability.js';
import { NdjsonWatch } from './control-client.js';
import { FAULT_WATCH_PATH, type FaultSetLine, type RoleObserveReport } from './protocol.js';

export class RoleObserve {
  readonly observability = new Observability();
  /** Handed to the role's DataPlane and L7 pods; replaced whole on every change. */
  readonly faults: FaultHolder = { table: undefined };
  /** Called after each new fault table is installed (a node's kernel table depends on it). */
  onInstalled: (() => void) | undefined;
  /** The role's kernel table (nftables mode): its counters are read into the data plane's before /metrics is written. */
  kernel: { readCounters(): Promise<void>; metrics(): string } | undefined;
  readonly #active = new Map<string, ActiveFault>();
  readonly #watch: NdjsonWatch<FaultSetLine>;
  readonly #onFired: () => void;
  readonly #log: (line: string) => void;
  #snapshot: Snapshot | undefined;
  #dataPlane: DataPlane | undefined;
  #server: Server | undefined;
  #url: string | undefined;

  /** onFired: a fault took effect here (the role reports its counts soon after). */
  constructor(controlUrl: string, log: (line: string) => void, onFired: () => void) {
    this.#onFired = onFired;
    this.#log = log;
    this.#watch = new NdjsonWatch<FaultSetLine>(controlUrl, FAULT_WATCH_PATH, (line) => this.#faultSet(line), log);
  }

  start(): void {
    this.#watch.start();
  }

  /** The role's data plane, once it exists (its counters for /metrics, its partitioned nodes). */
  attach(dataPlane: DataPlane): void {
    this.#dataPlane = dataPlane;
    this.#install();
  }

  /** After each snapshot is applied: pod faults are keyed by IP, which a new snapshot may have moved. */
  applied(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#install();
  }

  /**
   * Serves GET /metrics and GET /aks-emu/v1/traces on host:port; resolves with its URL, or
   * undefined when the port cannot be had (said in the log: the role serves traffic anyway,
   * and control counts it down in /metrics).
   */
  async listen(host: string, port: number): Promise<string | undefined> {
    const server = createServer((req, res) => {
      listenerGuard.call(
        'role-observe',
        () => this.#serve(req, res),
        () => (res.headersSent ? res.destroy() : plain(res, 500, 'internal error (logged)')),
      );
    });
    server.on('connection', (socket) => listenerGuard.watch('role-observe', socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    } catch (err) {
      this.#log(`metrics and traces not served: ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#url = `http://${address.address}:${address.port}`;
    return this.#url;
  }

  /** What this role adds to each report it sends control. */
  report(): RoleObserveReport {
    const faultsFired: Record<string, number> = {};
    for (const [id, fault] of this.#active) faultsFired[id] = fault.state.fired;
    return { ...(this.#url === undefined ? {} : { observeUrl: this.#url }), faultsFired };
  }

  async metrics(): Promise<string> {
    if (this.#dataPlane === undefined) return '';
    await this.kernel?.readCounters();
    return this.observability.metrics(this.#dataPlane, this.#snapshot) + (this.kernel?.metrics() ?? '');
  }

  traces(query: TraceQuery): TraceView[] {
    return this.observability.query(query);
  }

  followTraces(query: TraceQuery, onTrace: (view: TraceView) => void): () => void {
    return this.observability.follow(query, onTrace);
  }

  async stop(): Promise<void> {
    this.#watch.stop();
    this.faults.table = undefined;
    const server = this.#server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  /** A fault that stays keeps its counts (first-K, open flows per client); a new one starts from zero. */
  #faultSet(line: FaultSetLine): void {
    const next = new Map<string, ActiveFault>();
    for (const wire of line.faults) {
      const kept = this.#active.get(wire.id);
      let state = kept?.state;
      if (state === undefined) {
        state = new FaultState();
        state.onFire = this.#onFired;
      }
      next.set(wire.id, { id: wire.id, spec: wire.spec, target: wire.target, startedAt: wire.startedAt, state });
    }
    this.#active.clear();
    for (const [id, fault] of next) this.#active.set(id, fault);
    this.#install();
  }

  /** As the embedded runtime publishes its faults: one table for every hop, and the LB's partitioned nodes. */
  #install(): void {
    if (this.#snapshot === undefined) return;
    this.faults.table = compileFaultTable([...this.#active.values()], this.#snapshot);
    const partitioned = new Set<string>();
    for (const [node, set] of this.faults.table?.nodes ?? []) if (set.partition !== undefined) partitioned.add(node);
    this.#dataPlane?.partition(partitioned);
    this.onInstalled?.();
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    let target;
    try {
      target = parseTarget(req.url ?? '');
    } catch (err) {
      const status = toStatus(err);
      plain(res, status.code, status.message);
      return;
    }
    if (target.authority !== undefined) return plain(res, 400, 'only origin-form paths (/...) are served here');
    if (!handleObserveRoute(this, req, res, { ...target, authenticated: false })) {
      plain(res, 404, `${target.path} is not served here: this role serves GET /metrics and GET /aks-emu/v1/traces`);
    }
  }
}

function plain(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
