/**
 * Upgraded connections (WebSocket) through the controller: ingress-nginx passes `Upgrade`
 * and `Connection: upgrade` to the backend and then relays bytes both ways. The tunnel is
 * a raw socket splice to the chosen endpoint. proxy_read_timeout still applies: an idle
 * tunnel is closed after it (60 s by default), which is what users see happen to quiet
 * WebSockets behind ingress-nginx.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { errorPage, reasonPhrase } from './error-pages.js';
import { HSTS_VALUE, SERVER_VALUE, serializeHeaders } from './proxy-headers.js';
import type { CompiledEndpoint } from './router.js';
import type { BackendProtocol } from '../../cluster/ingress/types.js';

export interface TunnelTarget {
  readonly endpoints: readonly CompiledEndpoint[];
  /** Endpoint indexes to try in order (the first pick, then the balancer's next ones). */
  readonly order: readonly number[];
  readonly protocol: BackendProtocol;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly localAddress?: string;
  /** NetworkPolicy drops the connect to this endpoint: it times out, as a dropped SYN does. */
  readonly dropped?: (ip: string, port: number) => boolean;
}

/** A response nginx would generate, written on a socket that never became an HTTP exchange. */
export function writeRawReply(socket: Socket, status: number, https: boolean, location?: string): void {
  const body = errorPage(status);
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: ${SERVER_VALUE}\r\nDate: ${new Date().toUTCString()}\r\n`;
  head += `Content-Type: text/html\r\nContent-Length: ${body.length}\r\n`;
  if (location !== undefined) head += `Location: ${location}\r\n`;
  if (https) head += `Strict-Transport-Security: ${HSTS_VALUE}\r\n`;
  head += 'Connection: close\r\n\r\n';
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

export class Tunnel {
  readonly #client: Socket;
  readonly #requestHead: Buffer;
  readonly #target: TunnelTarget;
  readonly #https: boolean;
  #upstream: Socket | undefined;
  #attempt = 0;
  #connected = false;

  constructor(client: Socket, requestLine: string, headers: Record<string, string | string[]>, head: Buffer, target: TunnelTarget, https: boolean) {
    this.#client = client;
    this.#requestHead = Buffer.concat([Buffer.from(`${requestLine}\r\n${serializeHeaders(headers)}\r\n`, 'latin1'), head]);
    this.#target = target;
    this.#https = https;
    this.onClientGone = this.onClientGone.bind(this);
    client.on('close', this.onClientGone);
    client.on('error', this.onClientGone);
    this.#connect();
  }

  onClientGone(): void {
    this.#upstream?.destroy();
  }

  #connect(): void {
    const index = this.#target.order[this.#attempt] ?? 0;
    const endpoint = this.#target.endpoints[index];
    if (!endpoint) return writeRawReply(this.#client, 502, this.#https);
    if (this.#target.dropped?.(endpoint.config.ip, endpoint.config.port) === true) {
      const timer = setTimeout(() => this.#failed(undefined, true), this.#target.connectTimeoutMs);
      this.#client.once('close', () => clearTimeout(timer));
      return;
    }
    const options = { host: endpoint.config.ip, port: endpoint.config.port, localAddress: this.#target.localAddress };
    const upstream = this.#target.protocol === 'HTTPS' ? tlsConnect({ ...options, rejectUnauthorized: false }) : netConnect(options);
    this.#upstream = upstream;
    upstream.setNoDelay(true);
    upstream.setTimeout(this.#target.connectTimeoutMs, () => this.#failed(upstream, true));
    upstream.once(this.#target.protocol === 'HTTPS' ? 'secureConnect' : 'connect', () => this.#opened(upstream));
    upstream.on('error', () => this.#failed(upstream, false));
  }

  #opened(upstream: Socket): void {
    this.#connected = true;
    upstream.setTimeout(this.#target.readTimeoutMs, () => {
      upstream.destroy();
      this.#client.destroy();
    });
    upstream.write(this.#requestHead);
    upstream.pipe(this.#client);
    this.#client.pipe(upstream);
    upstream.on('close', () => this.#client.destroy());
  }

  #failed(upstream: Socket | undefined, timedOut: boolean): void {
    upstream?.destroy();
    if (this.#connected) return void this.#client.destroy();
    if (this.#client.destroyed) return;
    this.#attempt += 1;
    if (this.#attempt < this.#target.order.length) return this.#connect();
    writeRawReply(this.#client, timedOut ? 504 : 502, this.#https);
  }
}
