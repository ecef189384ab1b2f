/**
 * One Azure LB health probe attempt against one node. Tcp passes on a completed
 * handshake; Http/Https pass only on status 200 (load-balancer-custom-probe-overview):
 * the status line is read and the connection dropped. Https does not verify the
 * certificate, as Azure's probe does not.
 *
 * Every attempt ends with a TCP reset (SO_LINGER 0), never a FIN. The side that closes
 * first with a FIN keeps the connection in TIME_WAIT for 60 s, and probes bind their
 * source address (port 0): 2,000 probe targets every 5 s left ~20,000 TIME_WAIT sockets
 * on 127.63.129.16 and exhausted the ephemeral ports of the whole machine. A reset
 * leaves nothing behind on either side, and a backend sees what Azure's TCP probe shows
 * it: a completed handshake and then the end of the connection, with no request; for
 * HTTP probes the reset comes after the status line, so the verdict is the same.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

import type { LoadBalancerProbe } from '../../cluster/snapshot.js';

export type ProbeCallback = (ok: boolean, detail: string) => void;

/** A TCP probe's pass: its handshake completed. */
export const TCP_HANDSHAKE_COMPLETED = 'TCP handshake completed';

/** An HTTP probe's verdict on a status code: a pass on 200 only. */
export function statusVerdict(status: string): { readonly ok: boolean; readonly detail: string } {
  return { ok: status === '200', detail: `HTTP ${status}` };
}

/** Enough for any status line; a longer first line is not HTTP. */
const MAX_STATUS_LINE = 1024;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})/;

export class ProbeCheck {
  /** The TCP connection, reset at the end. */
  private readonly tcp: Socket;
  /** What the probe reads and writes: the TLS layer over tcp for Https, else tcp itself. */
  private readonly socket: Socket | TLSSocket;
  private received = '';
  private done = false;

  constructor(
    private readonly probe: LoadBalancerProbe,
    private readonly address: string,
    source: string | undefined,
    private readonly callback: ProbeCallback,
  ) {
    this.tcp = connect({ host: address, port: probe.port, localAddress: source }, probe.protocol === 'Http' ? this.sendRequest : undefined);
    if (probe.protocol === 'Https') {
      this.socket = connectTls({ socket: this.tcp, host: address, rejectUnauthorized: false }, this.sendRequest);
      this.tcp.on('error', this.onError);
    } else {
      this.socket = this.tcp;
      if (probe.protocol === 'Tcp') this.tcp.once('connect', this.handshakeDone);
    }
    this.socket.on('error', this.onError);
    this.socket.on('close', () => this.finish(false, 'connection closed before a status line'));
    if (probe.protocol !== 'Tcp') {
      this.socket.setEncoding('latin1');
      this.socket.on('data', this.onData);
    }
  }

  /** Abandon the attempt without reporting (the prober already counted it). */
  cancel(): void {
    this.done = true;
    this.close();
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.finish(false, error.code ?? error.message);
  };

  /**
   * A reset (see above), also for a socket still connecting as far as JavaScript knows:
   * after an event-loop stall the kernel may have completed the handshake already, and a
   * plain destroy() would then close with a FIN. Node sends the reset once connected; a
   * connection that fails instead ends with its error. The TLS layer closes with it.
   */
  private close(): void {
    if (!this.tcp.destroyed) this.tcp.resetAndDestroy();
  }

  private readonly handshakeDone = (): void => {
    this.finish(true, TCP_HANDSHAKE_COMPLETED);
  };

  private readonly sendRequest = (): void => {
    const path = this.probe.requestPath ?? '/';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.address}:${this.probe.port}\r\nUser-Agent: Load Balancer Agent\r\nConnection: close\r\n\r\n`);
  };

  private readonly onData = (chunk: string): void => {
    this.received += chunk;
    const end = this.received.indexOf('\r\n');
    if (end < 0 && this.received.length < MAX_STATUS_LINE) return;
    const status = STATUS_LINE.exec(this.received.slice(0, end < 0 ? MAX_STATUS_LINE : end))?.[1];
    if (status === undefined) this.finish(false, 'not an HTTP response');
    else {
      const verdict = statusVerdict(status);
      this.finish(verdict.ok, verdict.detail);
    }
  };

  private finish(ok: boolean, detail: string): void {
    if (this.done) return;
    this.done = true;
    this.close();
    this.callback(ok, detail);
  }
}
