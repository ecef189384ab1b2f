/**
 * A partition between the LB and a node, on flows the LB had already delivered there:
 * nothing gets through either way while it lasts, and when it heals the flow carries on,
 * as TCP's retransmissions carry an established connection over a short outage. The
 * client socket stops being read (its bytes wait in the kernel) and what is written to
 * it waits in order; healing writes it out and reads again. Works alike for a spliced
 * flow and one handed to an in-process pod, since both write and read the client socket.
 */
import type { Socket } from 'node:net';

const VIA = Symbol('aks-emu.via-node');
const HELD = Symbol('aks-emu.partition-held');

interface Held {
  readonly writes: { chunk: unknown; rest: unknown[] }[];
  ended: { rest: unknown[] } | undefined;
  readonly wasFlowing: boolean;
}

type PartitionSocket = Socket & { [VIA]?: string; [HELD]?: Held };

/** Marks a client socket with the node the LB delivered it to (one property write per LB flow). */
export function markDelivered(socket: Socket, node: string): void {
  (socket as PartitionSocket)[VIA] = node;
}

export function deliveredVia(socket: Socket): string | undefined {
  return (socket as PartitionSocket)[VIA];
}

/** The flow stalls: no reading, writes wait. */
export function holdFlow(socket: Socket): void {
  const s = socket as PartitionSocket;
  if (s[HELD] !== undefined || s.destroyed) return;
  const held: Held = { writes: [], ended: undefined, wasFlowing: !s.isPaused() };
  s[HELD] = held;
  s.pause();
  // Own properties shadow the prototype's methods while held; release deletes them.
  Object.assign(s, {
    resume: () => s,
    write: (chunk: unknown, ...rest: unknown[]) => {
      held.writes.push({ chunk, rest });
      return true;
    },
    end: (...rest: unknown[]) => {
      held.ended = { rest };
      return s;
    },
  });
}

/** The partition healed: what waited is written in order and reading goes on. */
export function releaseFlow(socket: Socket): void {
  const s = socket as PartitionSocket;
  const held = s[HELD];
  if (held === undefined) return;
  delete s[HELD];
  const own = s as unknown as Record<string, unknown>;
  delete own.resume;
  delete own.write;
  delete own.end;
  if (s.destroyed) return;
  for (const { chunk, rest } of held.writes) (s.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  if (held.ended !== undefined) (s.end as (...args: unknown[]) => void)(...held.ended.rest);
  if (held.wasFlowing) s.resume();
}
