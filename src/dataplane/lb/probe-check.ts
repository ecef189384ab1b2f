/**
 * One Azure LB health probe attempt against one node. Tcp passes on a completed
 * handshake; Http/Https pass only on status 200 (load-balancer-custom-probe-overview):
 * the status line is read and the connection dropped. Https does not verify the
 * certificate, as Azure's probe does not.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

import type { LoadBalancerProbe } from '../../cluster/snapshot.js';

export type ProbeCallback = (ok: boolean, detail: string) => void;

/** Enough for any status line; a longer first line is not HTTP. */
const MAX_STATUS_LINE = 1024;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})/;

export class ProbeCheck {
  private readonly socket: Socket;
  private received = '';
  private done = false;

  constructor(
    private readonly probe: LoadBalancerProbe,
    private readonly address: string,
    source: string | undefined,
    private readonly callback: ProbeCallback,
  ) {
    const target = { host: address, port: probe.port, localAddress: source };
    if (probe.protocol === 'Https') {
      this.socket = connectTls({ ...target, rejectUnauthorized: false }, this.sendRequest);
    } else {
      this.socket = connect(target, probe.protocol === 'Tcp' ? this.handshakeDone : this.sendRequest);
    }
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.finish(false, error.code ?? error.message));
    this.socket.on('close', () => this.finish(false, 'connection closed before a status line'));
    if (probe.protocol !== 'Tcp') {
      this.socket.setEncoding('latin1');
      this.socket.on('data', this.onData);
    }
  }

  /** Abandon the attempt without reporting (the prober already counted it). */
  cancel(): void {
    this.done = true;
    this.socket.destroy();
  }

  private readonly handshakeDone = (): void => {
    this.finish(true, 'TCP handshake completed');
  };

  private readonly sendRequest = (): void => {
    const path = this.probe.requestPath ?? '/';
    this.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${this.address}:${this.probe.port}\r\nUser-Agent: Load Balancer Agent\r\nConnection: close\r\n\r\n`,
    );
  };

  private readonly onData = (chunk: string): void => {
    this.received += chunk;
    const end = this.received.indexOf('\r\n');
    if (end < 0 && this.received.length < MAX_STATUS_LINE) return;
    const status = STATUS_LINE.exec(this.received.slice(0, end < 0 ? MAX_STATUS_LINE : end))?.[1];
    if (status === undefined) this.finish(false, 'not an HTTP response');
    else this.finish(status === '200', `HTTP ${status}`);
  };

  private finish(ok: boolean, detail: string): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    this.callback(ok, detail);
  }
}
