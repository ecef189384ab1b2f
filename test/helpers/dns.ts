import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

import { parseQuery } from '../../src/dataplane/dns/message.js';

/** A query for `name` (type A unless said), as a resolver sends it. */
export function dnsQuery(name: string, id: number, type = 1): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, type >> 8, type & 0xff, 0, 1])]);
}

/** The first datagram that comes back for `message`, or 'no reply' after waitMs; sent from `localAddress` when given. */
export function udpExchange(
  address: string,
  port: number,
  message: Buffer,
  options: { localAddress?: string; waitMs?: number } = {},
): Promise<Buffer | 'no reply'> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const done = (result: Buffer | 'no reply') => {
      clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => done('no reply'), options.waitMs ?? 500);
    socket.on('message', (m) => done(m));
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.bind({ address: options.localAddress ?? '127.0.0.1', port: 0 }, () => socket.send(message, port, address));
  });
}

/** DNS over TCP (length-prefixed, unless `raw`: the bytes as given): the first answer, or 'no reply' after waitMs. */
export function tcpExchange(
  address: string,
  port: number,
  message: Buffer,
  options: { localAddress?: string; waitMs?: number; raw?: boolean } = {},
): Promise<Buffer | 'no reply'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    let buffered = Buffer.alloc(0);
    const done = (result: Buffer | 'no reply') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('no reply'), options.waitMs ?? 500);
    socket.on('connect', () => {
      if (options.raw === true) return void socket.write(message);
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([prefix, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) done(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface DnsAnswer {
  readonly rcode: number;
  readonly addresses: string[];
}

/** The rcode and A records of an answer (its question echoed, then 16-byte records pointing at it). */
export function dnsAnswer(message: Buffer): DnsAnswer {
  const rcode = message.readUInt16BE(2) & 0xf;
  const count = message.readUInt16BE(6);
  const question = parseQuery(Buffer.concat([message.subarray(0, 2), Buffer.from([0x01, 0x00]), message.subarray(4)]))!;
  let offset = 12 + question.raw.length;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    addresses.push([...message.subarray(offset + 12, offset + 16)].join('.'));
    offset += 16;
  }
  return { rcode, addresses };
}
