/**
 * One run of one probe, as kubelet's probe/http and probe/tcp packages do it: a fresh
 * connection each time, a deadline of timeoutSeconds, and kubelet's own failure wording
 * so `describe`-style output reads like a real cluster's events.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Clock } from '../../dataplane/clock.js';

export interface ProbeOutcome {
  readonly success: boolean;
  readonly message: string;
}

export interface ProbeRun {
  readonly address: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Where the probe connects from: kubelet runs on the node, so the pod sees the node's address. */
  readonly localAddress?: string;
}

/** kubelet sends these unless the probe's httpHeaders set them (pkg/probe/http/request.go). */
const KUBE_PROBE_USER_AGENT = 'kube-probe/1.31';

/** Go's wording for the errors a probe meets most, so messages read like kubelet's events. */
function describeError(err: NodeJS.ErrnoException, target: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'ECONNRESET':
      return `read tcp ${target}: read: connection reset by peer`;
    default:
      return err.message;
  }
}

/**
 * The deadline and the single outcome of one run: the returned `finish` reports the first
 * outcome only, clears the deadline and closes the connection; `finish(undefined)` cancels.
 */
function settleOnce(run: ProbeRun, done: (outcome: ProbeOutcome) => void, timeoutMessage: string, abort: () => void) {
  let settled = false;
  const finish = (outcome: ProbeOutcome | undefined): void => {
    if (settled) return;
    settled = true;
    run.clock.clearTimeout(timer);
    abort();
    if (outcome) done(outcome);
  };
  const timer = run.clock.setTimeout(() => finish({ success: false, message: timeoutMessage }), run.timeoutMs);
  return finish;
}

/** Starts one httpGet probe; `done` is called once unless the returned cancel runs first. */
export function checkHttpGet(
  run: ProbeRun,
  action: { scheme: 'HTTP' | 'HTTPS'; port: number; path: string; headers: readonly { name: string; value: string }[] },
  done: (outcome: ProbeOutcome) => void,
): () => void {
  const url = `${action.scheme.toLowerCase()}://${run.address}:${action.port}${action.path}`;
  const headers: Record<string, string[]> = { 'user-agent': [KUBE_PROBE_USER_AGENT], accept: ['*/*'] };
  const given = new Set<string>();
  for (const h of action.headers) {
    const name = h.name.toLowerCase();
    if (!given.has(name)) headers[name] = [];
    given.add(name);
    headers[name]?.push(h.value);
  }
  // kubelet's transport disables keep-alive: every probe is a new connection.
  headers.connection = ['close'];
  let req: ClientRequest | undefined;
  const finish = settleOnce(run, done, `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, () => req?.destroy());
  const options = { host: run.address, port: action.port, path: action.path, method: 'GET', headers, agent: false as const };
  try {
    req =
      action.scheme === 'HTTPS'
        ? // kubelet does not verify the pod's certificate (InsecureSkipVerify).
          httpsRequest({ ...options, localAddress: run.localAddress, rejectUnauthorized: false })
        : httpRequest({ ...options, localAddress: run.localAddress });
  } catch (err) {
    finish({ success: false, message: `Get "${url}": ${(err as Error).message}` });
    return () => finish(undefined);
  }
  req.on('response', (res: IncomingMessage) => {
    res.resume();
    const status = res.statusCode ?? 0;
    // kubelet: 200 <= status < 400 is success (redirects are not followed here).
    finish(
      status >= 200 && status < 400
        ? { success: true, message: `HTTP probe succeeded with statuscode: ${status}` }
        : { success: false, message: `HTTP probe failed with statuscode: ${status}` },
    );
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    finish({ success: false, message: `Get "${url}": ${describeError(err, `${run.address}:${action.port}`)}` });
  });
  req.end();
  return () => finish(undefined);
}

/** Starts one tcpSocket probe: success is a completed handshake, closed at once. */
export function checkTcpSocket(run: ProbeRun, port: number, done: (outcome: ProbeOutcome) => void): () => void {
  const target = `${run.address}:${port}`;
  // eslint-disable-next-line prefer-const -- finish() closes over it before connect() assigns it
  let socket: Socket | undefined;
  const finish = settleOnce(run, done, `dial tcp ${target}: i/o timeout`, () => socket?.destroy());
  socket = connect({ host: run.address, port, localAddress: run.localAddress });
  socket.once('connect', () => finish({ success: true, message: `TCP probe succeeded: connected to ${target}` }));
  socket.once('error', (err: NodeJS.ErrnoException) => finish({ success: false, message: describeError(err, target) }));
  return () => finish(undefined);
}
