/**
 * The faults of one running cluster: ids, expiry, and the runtime facts some of them set
 * (a stopped node, a pod forced unready, a crashed pod). The data plane never sees this
 * registry, only the frozen table the owner compiles from active() after every change.
 * Removing a fault undoes what it set; stop() forgets every fault without undoing (the
 * cluster is going away).
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../dataplane/clock.js';
import { ApiStatusError } from '../errors/index.js';
import { FaultState, type ActiveFault } from '../faults/compile.js';
import { formatTarget, type Fault, type FaultRequest } from '../faults/types.js';

/** What faults on runtime facts do to the cluster, and how they are undone. */
export interface FaultEffects {
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  setPodReady(podKey: string, ready: boolean | null): Promise<void>;
  /** Connections reset, the pod comes back after restartAfterMs. */
  crashPod(podKey: string, restartAfterMs: number): Promise<void>;
  /** The active set changed: compile and publish a new table. */
  changed(): void;
  log(line: string): void;
}

interface Entry {
  readonly active: ActiveFault;
  readonly request: FaultRequest;
  readonly createdAt: number;
  readonly expiresAt: number | undefined;
  timer: TimerHandle | undefined;
}

export interface FaultRegistryEvents {
  /** A fault was added, removed, or fired. */
  change: [];
}

export class FaultRegistry extends EventEmitter<FaultRegistryEvents> {
  readonly #entries = new Map<string, Entry>();
  #next = 1;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly effects: FaultEffects,
  ) {
    super();
    // waitFor helpers and dashboards listen; more than ten is not a leak.
    this.setMaxListeners(0);
  }

  active(): ActiveFault[] {
    return [...this.#entries.values()].map((e) => e.active);
  }

  list(): Fault[] {
    return [...this.#entries.values()].map((e) => this.#show(e));
  }

  get(id: string): Fault {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new ApiStatusError('NotFound', `faults "${id}" not found`, { name: id, kind: 'faults' });
    return this.#show(entry);
  }

  /** Adds a validated fault and applies what it sets; nothing is kept when that fails. */
  async add(request: FaultRequest): Promise<Fault> {
    if (this.#stopped) throw new ApiStatusError('ServiceUnavailable', 'the cluster is stopping');
    const id = `fault-${this.#next++}`;
    const now = this.clock.now();
    const state = new FaultState();
    state.onFire = () => this.emit('change');
    const active: ActiveFault = { id, spec: request.spec, target: request.target, startedAt: now, state };
    const expiresAt = request.forMs === undefined ? undefined : now + request.forMs;
    const entry: Entry = { active, request, createdAt: now, expiresAt, timer: undefined };
    await this.#apply(active);
    this.#entries.set(id, entry);
    if (request.forMs !== undefined) {
      entry.timer = this.clock.setTimeout(() => {
        entry.timer = undefined;
        // Removed meanwhile (a race with `fault rm`) is fine; undoing what it set may fail and is said.
        if (!this.#entries.has(id)) return;
        this.remove(id).catch((err: unknown) => this.effects.log(`fault ${id} expired, but undoing it failed: ${(err as Error).message}`));
      }, request.forMs);
    }
    this.effects.changed();
    this.emit('change');
    return this.#show(entry);
  }

  async remove(id: string): Promise<Fault> {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new ApiStatusError('NotFound', `faults "${id}" not found`, { name: id, kind: 'faults' });
    this.#entries.delete(id);
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.effects.changed();
    this.emit('change');
    await this.#undo(entry.active);
    return this.#show(entry);
  }

  /** Removes every fault; resolves with the removed ones. */
  async clear(): Promise<Fault[]> {
    const removed: Fault[] = [];
    for (const id of [...this.#entries.keys()]) removed.push(await this.remove(id));
    return removed;
  }

  /** The cluster stops: timers end, every fault is forgotten. */
  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries.values()) if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.#entries.clear();
  }

  async #apply(fault: ActiveFault): Promise<void> {
    const { spec, target } = fault;
    const podKey = `${target.namespace}/${target.name}`;
    switch (spec.type) {
      case 'stop':
        await this.effects.stopNode(target.name);
        fault.state.fire();
        return;
      case 'unready':
        await this.effects.setPodReady(podKey, false);
        fault.state.fire();
        return;
      case 'crash':
        await this.effects.crashPod(podKey, spec.restartAfterMs);
        fault.state.fire();
        return;
      default:
        return;
    }
  }

  async #undo(fault: ActiveFault): Promise<void> {
    const { spec, target } = fault;
    // Another fault may still hold the same fact: the last one to go undoes it.
    const stillHeld = this.active().some(
      (f) => f.spec.type === spec.type && f.target.kind === target.kind && f.target.namespace === target.namespace && f.target.name === target.name,
    );
    if (stillHeld) return;
    if (spec.type === 'stop') await this.effects.startNode(target.name);
    else if (spec.type === 'unready') await this.effects.setPodReady(`${target.namespace}/${target.name}`, null);
  }

  #show(entry: Entry): Fault {
    const { active, request } = entry;
    return {
      id: active.id,
      type: active.spec.type,
      target: formatTarget(active.target),
      params: request.params,
      createdAt: new Date(entry.createdAt).toISOString(),
      ...(entry.expiresAt === undefined ? {} : { expiresAt: new Date(entry.expiresAt).toISOString() }),
      fired: active.state.fired,
    };
  }
}
