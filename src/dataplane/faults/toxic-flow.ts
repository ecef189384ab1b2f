/**
 * A spliced flow with stream faults between its ends, as Toxiproxy's toxics sit between
 * its listener and upstream: latency (each chunk held delay ± jitter, order kept),
 * bandwidth (chunks released no faster than the rate), close-after (the flow closes once
 * that many bytes have passed). Upstream is client → pod, downstream pod → client. A lane
 * holding more than HIGH_WATER bytes pauses its source, so a slow lane pushes back on the
 * sender as a slow link would.
 */
import type { Socket } from 'node:net';

import type { Clock, TimerHandle } from '../clock.js';
import { IdleTimeout, type IdleFlow } from '../lb/idle-timeout.js';
import { resetSocket } from '../l4/reset.js';
import type { StreamToxic } from './l4-faults.js';

const HIGH_WATER = 256 * 1024;
/** The smallest slice a bandwidth limit cuts a chunk into. */
const MIN_SLICE = 1024;

interface Queued {
  readonly chunk: Buffer;
  readonly at: number;
}

class Lane {
  readonly #queue: Queued[] = [];
  #queued = 0;
  #timer: TimerHandle | undefined;
  /** When the link is next free under a bandwidth limit. */
  #linkFree = 0;
  #lastAt = 0;
  #ended = false;
  #passed = 0;

  constructor(
    private readonly flow: ToxicFlow,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly toxics: readonly StreamToxic[],
  ) {}

  push(chunk: Buffer): void {
    const now = this.flow.clock.now();
    let at = now;
    let slice = chunk.length;
    for (const t of this.toxics) {
      if (t.kind === 'latency') at += Math.max(0, t.delayMs + (t.jitterMs > 0 ? (this.flow.random() * 2 - 1) * t.jitterMs : 0));
      // A limited link carries a chunk in slices of 50 ms each, so the rate holds over short spans too.
      else if (t.kind === 'bandwidth') slice = Math.min(slice, Math.max(MIN_SLICE, Math.floor(t.bytesPerSecond / 20)));
    }
    // A chunk never overtakes the one before it.
    at = Math.max(at, this.#lastAt);
    for (let offset = 0; offset < chunk.length; offset += slice) {
      const part = slice === chunk.length ? chunk : chunk.subarray(offset, offset + slice);
      for (const t of this.toxics) {
        if (t.kind !== 'bandwidth') continue;
        const start = Math.max(at, this.#linkFree);
        this.#linkFree = start + (part.length * 1000) / t.bytesPerSecond;
        at = this.#linkFree;
      }
      this.#queue.push({ chunk: part, at });
    }
    this.#lastAt = at;
    this.#queued += chunk.length;
    if (this.#queued > HIGH_WATER) this.from.pause();
    this.#arm();
  }

  end(): void {
    this.#ended = true;
    this.#arm();
  }

  stop(): void {
    if (this.#timer !== undefined) this.flow.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const head = this.#queue[0];
    if (head === undefined) {
      if (this.#ended && !this.to.destroyed) this.to.end();
      return;
    }
    this.#timer = this.flow.clock.setTimeout(this.#release, Math.max(0, head.at - this.flow.clock.now()));
  }

  readonly #release = (): void => {
    this.#timer = undefined;
    const now = this.flow.clock.now();
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now) {
      const { chunk } = this.#queue.shift()!;
      this.#queued -= chunk.length;
      if (!this.#write(chunk)) return;
    }
    if (this.#queued <= HIGH_WATER / 2 && !this.flow.silenced) this.from.resume();
    this.#arm();
  };

  /** False once a close-after limit has ended the flow. */
  #write(chunk: Buffer): boolean {
    if (this.to.destroyed) return false;
    const limit = this.toxics.find((t): t is Extract<StreamToxic, { kind: 'close-after' }> => t.kind === 'close-after');
    if (limit !== undefined && this.#passed + chunk.length >= limit.bytes) {
      const part = chunk.subarray(0, limit.bytes - this.#passed);
      this.#passed += part.length;
      if (part.length > 0) this.to.write(part);
      this.flow.closeAfterLimit();
      return false;
    }
    this.#passed += chunk.length;
    this.to.write(chunk);
    return true;
  }
}

function applies(direction: 'upstream' | 'downstream', toxic: StreamToxic): boolean {
  return toxic.kind !== 'idle-timeout' && (toxic.direction === 'both' || toxic.direction === direction);
}

export class ToxicFlow implements IdleFlow {
  active = false;
  lastActive: number;
  silenced = false;
  closed = false;
  readonly #up: Lane;
  readonly #down: Lane;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    toxics: readonly StreamToxic[],
    readonly clock: Clock,
    readonly random: () => number,
  ) {
    this.lastActive = clock.now();
    this.#up = new Lane(
      this,
      client,
      upstream,
      toxics.filter((t) => applies('upstream', t)),
    );
    this.#down = new Lane(
      this,
      upstream,
      client,
      toxics.filter((t) => applies('downstream', t)),
    );
    this.#wire(client, this.#up, upstream);
    this.#wire(upstream, this.#down, client);
    client.resume();
    upstream.resume();
  }

  #wire(socket: Socket, lane: Lane, peer: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (this.silenced) return;
      this.active = true;
      lane.push(chunk);
    });
    socket.on('end', () => {
      if (this.silenced) this.destroy();
      else lane.end();
    });
    socket.on('error', () => {
      this.#stopLanes();
      if (!this.silenced) resetSocket(peer);
    });
    socket.on('close', (hadError: boolean) => {
      if (socket === this.client) this.closed = true;
      if (peer.destroyed) return;
      this.#stopLanes();
      if (hadError) resetSocket(peer);
      else peer.destroySoon();
    });
  }

  #stopLanes(): void {
    this.#up.stop();
    this.#down.stop();
  }

  /** A close-after limit was reached: both ends close, as Toxiproxy's limit_data closes the connection. */
  closeAfterLimit(): void {
    this.#stopLanes();
    this.client.end();
    this.upstream.end();
    this.client.destroySoon();
    this.upstream.destroySoon();
  }

  reset(): void {
    this.#stopLanes();
    resetSocket(this.client);
    resetSocket(this.upstream);
  }

  silence(): void {
    this.silenced = true;
    this.#stopLanes();
    this.client.resume();
    this.upstream.resume();
  }

  destroy(): void {
    this.#stopLanes();
    this.client.destroy();
    this.upstream.destroy();
  }
}

const IDLE = new WeakMap<object, IdleTimeout>();

/**
 * The idle timeout a flow with an idle-timeout fault is watched by instead of its rule's:
 * one per fault, counting into the fault's own counters.
 */
export function faultIdleTimeout(toxics: readonly StreamToxic[], clock: Clock): IdleTimeout | undefined {
  const toxic = toxics.find((t): t is Extract<StreamToxic, { kind: 'idle-timeout' }> => t.kind === 'idle-timeout');
  if (toxic === undefined) return undefined;
  const state = toxic.fault.state;
  let idle = IDLE.get(state);
  if (idle === undefined) {
    const counters = {
      loadBalancer: '',
      rule: toxic.fault.id,
      connections: 0,
      nodePicks: new Map<string, number>(),
      rejectedBySourceRange: 0,
      noHealthyBackend: 0,
      backendUnreachable: 0,
      inCluster: 0,
      // Each expiry is the fault taking effect.
      get idleTimeouts() {
        return state.fired;
      },
      set idleTimeouts(_: number) {
        state.fire();
      },
    };
    idle = new IdleTimeout(clock, counters, { timeoutMs: toxic.timeoutMs, enableTcpReset: toxic.tcpReset, droppedLifetimeMs: 15 * 60_000 });
    IDLE.set(state, idle);
  }
  return idle;
}
