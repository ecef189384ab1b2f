/**
 * Endpoints served in this process (the embedded runtime's echo and ingress controller
 * pods). When kube-proxy picks one, the accepted client socket is handed to the pod
 * runtime instead of dialling the pod over loopback and splicing the two: the hop
 * collapse docs/architecture.md describes. The pod must then see the connection as a dialled one would
 * have shown it, so the addresses travel with the socket as `SeenAs`.
 */
import type { Socket } from 'node:net';

/** The two ends of the connection as the pod sees them. */
export interface SeenAs {
  /** The node under SNAT (Cluster policy, hairpin), else the client. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The endpoint: pod IP and targetPort. */
  readonly localAddress: string;
  readonly localPort: number;
}

export interface LocalEndpoint {
  /**
   * Take a client connection as if it had been accepted on this pod's listener. The
   * socket arrives paused; the caller resumes it once this returns.
   */
  acceptForwarded(socket: Socket, seenAs: SeenAs): void;
  /**
   * True when a connection reset right after its handshake, before any byte, leaves nothing
   * behind in this pod: no log line, no counter, no dial, no random draw. The LB's TCP probe
   * is such a connection, so its hand-over to this pod may be skipped (lb/probe-answer.ts).
   */
  readonly quietOnProbe?: boolean;
}

export interface LocalEndpoints {
  /** The endpoint at ip:port if a running pod of this process listens there. */
  lookup(ip: string, port: number): LocalEndpoint | undefined;
}

const SEEN_AS = Symbol('aks-emu.seen-as');
type ForwardedSocket = Socket & { [SEEN_AS]?: SeenAs; _parent?: ForwardedSocket };

/** Pod runtimes call this in acceptForwarded, before anything reads the addresses. */
export function rememberSeenAs(socket: Socket, seenAs: SeenAs): void {
  (socket as ForwardedSocket)[SEEN_AS] = seenAs;
}

/**
 * The addresses a pod reports for a connection: the forwarded view when the socket was
 * handed over, else the socket's own. A TLS socket reads them from the TCP socket it wraps.
 */
export function seenAs(socket: Socket): SeenAs {
  const s = socket as ForwardedSocket;
  const forwarded = s[SEEN_AS] ?? s._parent?.[SEEN_AS];
  if (forwarded !== undefined) return forwarded;
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
}

/** Just the remote address (what X-Real-IP and the ingress allow-lists use), without allocating. */
export function seenRemoteAddress(socket: Socket): string {
  const s = socket as ForwardedSocket;
  const forwarded = s[SEEN_AS] ?? s._parent?.[SEEN_AS];
  return forwarded !== undefined ? forwarded.remoteAddress : (socket.remoteAddress ?? '');
}
