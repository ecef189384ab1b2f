/**
 * One client connection's requests, one at a time, as nginx serves them: nginx reads the
 * next pipelined request from its buffer only when the current one is finished, so a
 * client cannot make it run two upstream requests at once. Node's HTTP server parses a
 * whole read of pipelined requests and emits them all; here the later ones wait, and the
 * socket stops being read while any wait (the same pause Node's server applies when a
 * client does not read its responses: its `_paused` flag, the socket and the parser).
 * What a client can queue is then what one read holds (64 KiB), not what it sends.
 * Responses go out in request order either way (Node queues them per socket).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The fields of Node's HTTP server connection state that its own pipelining flood guard uses. */
type ServerSocket = Socket & { _paused?: boolean; parser?: { pause(): void; resume(): void } | null };

const STATE = Symbol('aks-emu.ingress-client-connection');
type TrackedSocket = ServerSocket & { [STATE]?: ClientConnection };
type TrackedResponse = ServerResponse & { [STATE]?: ClientConnection };

class ClientConnection {
  busy = false;
  readonly waiting: [IncomingMessage, ServerResponse][] = [];
  paused = false;

  constructor(
    readonly socket: TrackedSocket,
    readonly handler: Handler,
  ) {}

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    // Node pauses the parser after the current read when this flag is set.
    this.socket._paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // Node's own guard still wants the socket paused (the client is not reading): its drain handler resumes.
    if (this.socket.writableNeedDrain) return;
    this.socket._paused = false;
    this.socket.parser?.resume();
    this.socket.resume();
  }
}

function onSocketClose(this: TrackedSocket): void {
  const state = this[STATE];
  if (state) state.waiting.length = 0;
}

/** After Node's drain handler has resumed a socket that still has waiting requests: pause it again. */
function onSocketDrain(this: TrackedSocket): void {
  const state = this[STATE];
  if (state && state.waiting.length > 0) {
    state.paused = false;
    state.pause();
  }
}

/** The response is done (finished or destroyed): the next request of its connection may go. */
function onResponseClose(this: TrackedResponse): void {
  const state = this[STATE];
  this[STATE] = undefined;
  if (state) finish(state);
}

function start(state: ClientConnection, req: IncomingMessage, res: TrackedResponse): void {
  state.busy = true;
  res[STATE] = state;
  res.once('close', onResponseClose);
  state.handler(req, res);
}

function finish(state: ClientConnection): void {
  state.busy = false;
  if (state.socket.destroyed) {
    state.waiting.length = 0;
    return;
  }
  const next = state.waiting.shift();
  if (next) return start(state, next[0], next[1]);
  state.resume();
}

/** Wraps a `request` listener so that each connection's requests run one after another. */
export function oneAtATime(handler: Handler): Handler {
  return (req, res) => {
    const socket = req.socket as TrackedSocket;
    let state = socket[STATE];
    if (!state) {
      state = new ClientConnection(socket, handler);
      socket[STATE] = state;
      socket.once('close', onSocketClose);
      socket.on('drain', onSocketDrain);
    }
    if (!state.busy) return start(state, req, res);
    state.waiting.push([req, res]);
    state.pause();
  };
}
