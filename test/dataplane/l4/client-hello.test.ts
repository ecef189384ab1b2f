import { connect } from 'node:tls';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from '../../../src/dataplane/l4/client-hello.js';

/** The ClientHello node's TLS client sends for `servername`, captured from a stream that never answers. */
function realHello(servername?: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        resolve(chunk);
        done();
        // connect() may write the hello before it returns (Node 20 with a JS stream): destroy after it has.
        setImmediate(() => socket.destroy());
      },
    });
    const socket = connect({ socket: wire, ...(servername ? { servername } : {}) });
    // The handshake never completes: the destroyed stream's error is the expected end, not a failure.
    socket.on('error', () => undefined);
  });
}

describe('peekClientHello', () => {
  it('reads the server name of a real ClientHello, in any split of its bytes', async () => {
    const hello = await realHello('App.Example.com');
    expect(peekClientHello(hello)).toEqual({ state: 'complete', serverName: 'app.example.com' });
    for (const cut of [0, 1, 5, 9, 40, hello.length - 1]) expect(peekClientHello(hello.subarray(0, cut))).toEqual({ state: 'incomplete' });
  });

  it('reports a hello without SNI as complete with no name', async () => {
    expect(peekClientHello(await realHello())).toEqual({ state: 'complete', serverName: undefined });
  });

  it('calls anything else malformed', async () => {
    expect(peekClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')).state).toBe('malformed');
    const hello = await realHello('a.example');
    const wrongType = Buffer.from(hello);
    wrongType[5] = 2; // ServerHello
    expect(peekClientHello(wrongType).state).toBe('malformed');
    const overrun = Buffer.from(hello);
    overrun.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + (hello[5 + 4 + 2 + 32] ?? 0));
    expect(peekClientHello(overrun).state).toBe('malformed');
  });

  it('bounds what it waits for', () => {
    const record = Buffer.alloc(5);
    record[0] = 0x16;
    record[1] = 0x03;
    record.writeUInt16BE(4, 3);
    const hs = Buffer.from([0x01, 0x01, 0x00, 0x00]); // claims a 64 KiB hello
    expect(peekClientHello(Buffer.concat([record, hs]))).toMatchObject({ state: 'malformed', reason: 'ClientHello too large' });
    expect(peekClientHello(Buffer.alloc(MAX_CLIENT_HELLO_BYTES + 2048, 0x16)).state).toBe('malformed');
  });
});
