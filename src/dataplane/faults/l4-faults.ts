/**
 * What the L4 hops do with the fault table: at accept, a reset ends the connection there,
 * a blackhole or a refused SNAT port holds it silent (held-connections.ts); a stream fault (latency, bandwidth, close-after,
 * idle timeout) is attached to the client socket and applied where the flow is spliced
 * (toxic-flow.ts), whichever hop attached it. Probe connections are never faulted: the
 * node faults fail-probes, drain and partition are the probe faults.
 */
import type { Socket } from 'node:net';

import type { ActiveFault, FaultTable } from '../../faults/compile.js';
import { portFaultKey, type PortHop } from '../../faults/compile.js';
import type { Direction, PortFault } from '../../faults/types.js';
import type { HeldConnections } from '../node/held-connections.js';
import { resetSocket } from '../l4/reset.js';
import { flowFault } from '../observe/flow.js';

/** A fault applied to the bytes of one flow. */
export type StreamToxic =
  | { readonly kind: 'latency'; readonly delayMs: number; readonly jitterMs: number; readonly direction: Direction }
  | { readonly kind: 'bandwidth'; readonly bytesPerSecond: number; readonly direction: Direction }
  | { readonly kind: 'close-after'; readonly bytes: number; readonly direction: Direction }
  | { readonly kind: 'idle-timeout'; readonly timeoutMs: number; readonly tcpReset: boolean; readonly fault: ActiveFault };

const TOXICS = Symbol('aks-emu.fault-toxics');
type ToxicSocket = Socket & { [TOXICS]?: StreamToxic[] };

export function addToxic(socket: Socket, toxic: StreamToxic): void {
  const s = socket as ToxicSocket;
  (s[TOXICS] ??= []).push(toxic);
}

/** The stream faults attached to a client socket on its way through the hops. */
export function toxicsOf(socket: Socket): readonly StreamToxic[] | undefined {
  return (socket as ToxicSocket)[TOXICS];
}

export interface GateContext {
  readonly random: () => number;
  readonly held: HeldConnections;
  readonly probeSource: string | undefined;
}

/**
 * Applies the faults of one Service port at one hop to a new connection. True: the
 * connection was consumed (reset, held or refused) and must not be forwarded.
 */
export function gatePort(socket: Socket, table: FaultTable, hop: PortHop, servicePort: string, ctx: GateContext): boolean {
  const faults = table.ports.get(portFaultKey(hop, servicePort));
  if (faults === undefined || socket.remoteAddress === ctx.probeSource) return false;
  for (const fault of faults) {
    const fired = fault.state.fired;
    const taken = applyPortFault(socket, fault, ctx);
    if (fault.state.fired !== fired) flowFault(socket, fault.id, fault.spec.type);
    if (taken) return true;
  }
  return false;
}

function applyPortFault(socket: Socket, fault: ActiveFault<PortFault>, ctx: GateContext): boolean {
  const spec = fault.spec;
  if (spec.fraction < 1 && ctx.random() >= spec.fraction) return false;
  const state = fault.state;
  switch (spec.type) {
    case 'reset':
      state.fire();
      resetSocket(socket);
      return true;
    case 'blackhole':
      state.fire();
      ctx.held.hold(socket);
      return true;
    case 'snat-exhaustion': {
      const client = socket.remoteAddress ?? '';
      const open = state.openByClient.get(client) ?? 0;
      if (open >= spec.ports) {
        // Azure drops the SYN of a flow that finds no free SNAT port: the client hears nothing
        // and times out. A proxy has already accepted, so the connection is held silent, as a
        // NetworkPolicy drop is (node/upstream-dial.ts): never answered, released when the client gives up.
        state.fire();
        ctx.held.hold(socket);
        return true;
      }
      state.openByClient.set(client, open + 1);
      socket.once('close', () => {
        const left = (state.openByClient.get(client) ?? 1) - 1;
        if (left <= 0) state.openByClient.delete(client);
        else state.openByClient.set(client, left);
      });
      return false;
    }
    case 'latency':
      state.fire();
      addToxic(socket, { kind: 'latency', delayMs: spec.delayMs, jitterMs: spec.jitterMs, direction: spec.direction });
      return false;
    case 'bandwidth':
      state.fire();
      addToxic(socket, { kind: 'bandwidth', bytesPerSecond: spec.rateKBps * 1000, direction: spec.direction });
      return false;
    case 'close-after':
      state.fire();
      addToxic(socket, { kind: 'close-after', bytes: spec.bytes, direction: spec.direction });
      return false;
    case 'idle-timeout':
      addToxic(socket, { kind: 'idle-timeout', timeoutMs: spec.timeoutMs, tcpReset: spec.tcpReset, fault });
      return false;
  }
}

/** A slow node: latency both ways on every flow its kube-proxy forwards. */
export function gateNode(socket: Socket, table: FaultTable, node: string, ctx: GateContext): void {
  const slow = table.nodes.get(node)?.slow;
  if (slow === undefined || socket.remoteAddress === ctx.probeSource) return;
  slow.state.fire();
  flowFault(socket, slow.id, slow.spec.type);
  addToxic(socket, { kind: 'latency', delayMs: slow.spec.delayMs, jitterMs: slow.spec.jitterMs, direction: 'both' });
}

/** Faults of the pod a flow reaches, at the dial. True: the connection was consumed (held by a hung pod). */
export function gatePod(socket: Socket, table: FaultTable, endpointIp: string, now: number, ctx: GateContext): boolean {
  if (socket.remoteAddress === ctx.probeSource) return false;
  const pod = table.pods.get(endpointIp);
  if (pod === undefined) return false;
  if (pod.hang !== undefined) {
    pod.hang.state.fire();
    flowFault(socket, pod.hang.id, pod.hang.spec.type);
    ctx.held.hold(socket);
    return true;
  }
  const slowStart = pod.slowStart;
  if (slowStart !== undefined) {
    const left = 1 - (now - slowStart.startedAt) / slowStart.spec.windowMs;
    if (left > 0) {
      slowStart.state.fire();
      flowFault(socket, slowStart.id, slowStart.spec.type);
      addToxic(socket, { kind: 'latency', delayMs: Math.round(slowStart.spec.delayMs * left), jitterMs: 0, direction: 'upstream' });
    }
  }
  return false;
}
