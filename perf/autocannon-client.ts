/**
 * Two things autocannon 9 cannot do on its own, done without adding a hop:
 *
 * 1. A source address. Its HTTP client calls `net.connect(port, host)` (lib/httpClient.js)
 *    and takes no `localAddress`; a ClusterIP only answers in-cluster sources. A relay
 *    in front would measure the relay, so instead `net.connect` itself is wrapped in the
 *    load-generator process (which runs nothing else): one extra function call per new
 *    connection, and the same wrapper for every row.
 *
 * 2. Honest reconnects. When a response says the connection closes (`Connection: close`,
 *    or nginx's keepalive_requests reached), autocannon writes the next request into the
 *    dying socket anyway and, on reconnect, never clears its queue of pending requests,
 *    so every later latency is measured from a stale start time (it grows without bound).
 *    Its `reconnectRate` drops the response at each reconnect from the counts (with 1,
 *    nothing is counted at all). So, per client, through the `setupClient` hook: no new
 *    request on a connection that is closing, and an empty queue on every new connection.
 *    With that, a `Connection: close` header gives exactly one connection per request.
 */
import type { Client, ResponseHeadersInfo } from 'autocannon';
import net from 'node:net';
import type { LatencyHistogram } from './latency-histogram.js';

const CLOSING = Symbol('closing');
type MaybeClosing = net.Socket & { [CLOSING]?: boolean };

const originalConnect = net.connect;
let sourceAddress: string | undefined;

/** Installs the wrapper once; `setSourceAddress` then chooses the address per run. */
export function installSourceAddressHook(): void {
  if (net.connect !== originalConnect) return;
  net.connect = function connect(this: unknown, ...args: unknown[]): net.Socket {
    if (sourceAddress !== undefined && typeof args[0] === 'number' && typeof args[1] === 'string') {
      return originalConnect({ port: args[0], host: args[1], localAddress: sourceAddress });
    }
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(net, args);
  } as typeof net.connect;
}

export function setSourceAddress(address: string | undefined): void {
  sourceAddress = address;
}

function onHeaders(this: Client, info: ResponseHeadersInfo): void {
  if (!info.shouldKeepAlive) (this.conn as MaybeClosing)[CLOSING] = true;
}

function guardedDoRequest(this: Client): void {
  if ((this.conn as MaybeClosing)[CLOSING]) return;
  Object.getPrototypeOf(this)._doRequest.call(this);
}

function freshConnect(this: Client): void {
  // Requests written to the previous connection will never be answered.
  this.pipelinedRequests.clear();
  Object.getPrototypeOf(this)._connect.call(this);
}

/** The `setupClient` for one run: honest reconnects, and every latency into `histogram`. */
export function clientSetup(histogram: Pick<LatencyHistogram, 'record'>): (client: Client) => void {
  const onResponse = (_status: number, _bytes: number, durationMs: number): void => histogram.record(durationMs);
  return (client) => {
    client._doRequest = guardedDoRequest;
    client._connect = freshConnect;
    client.on('headers', onHeaders);
    client.on('response', onResponse);
  };
}
