import { describe, expect, it } from 'vitest';
import { echoPorts, sniff } from '../../../src/pods/echo/port-protocol.js';
import { container } from '../pod-fixture.js';

describe('echoPorts', () => {
  it('lists every TCP containerPort of every container once', () => {
    const ports = echoPorts([
      container('web', [
        { name: 'http', containerPort: 8080 },
        { containerPort: 9000, protocol: 'UDP' },
      ]),
      container('sidecar', [{ name: 'metrics', containerPort: 8080 }, { containerPort: 9090 }]),
    ]);
    expect(ports).toEqual([
      { port: 8080, mode: 'sniff' },
      { port: 9090, mode: 'sniff' },
    ]);
  });

  it('echoes bytes on ports whose name or number is a well-known non-HTTP protocol', () => {
    const ports = echoPorts([
      container('app', [
        { name: 'amqp', containerPort: 25672 },
        { name: 'tcp-legacy', containerPort: 21000 },
        { name: 'grpc', containerPort: 50051 },
        { name: 'Redis', containerPort: 16379 },
        { name: 'db', containerPort: 5432 },
        { name: 'tcpdump-ui', containerPort: 8081 },
      ]),
    ]);
    expect(ports).toEqual([
      { port: 25672, mode: 'echo' },
      { port: 21000, mode: 'echo' },
      { port: 50051, mode: 'echo' },
      { port: 16379, mode: 'echo' },
      { port: 5432, mode: 'echo' },
      { port: 8081, mode: 'sniff' },
    ]);
  });

  it('lets a non-HTTP name in one container win over a plain name for the same port in another', () => {
    const ports = echoPorts([container('a', [{ name: 'web', containerPort: 7000 }]), container('b', [{ name: 'redis', containerPort: 7000 }])]);
    expect(ports).toEqual([{ port: 7000, mode: 'echo' }]);
  });

  it('listens nowhere for a pod that declares no ports', () => {
    expect(echoPorts([container('web', [])])).toEqual([]);
  });
});

describe('sniff', () => {
  it('recognises a request line by its method token and space', () => {
    expect(sniff(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('http');
    expect(sniff(Buffer.from('OPTIONS * HTTP/1.1\r\n'))).toBe('http');
    expect(sniff(Buffer.from('PATCH /x'))).toBe('http');
  });

  it('waits while the first bytes could still start a request line', () => {
    expect(sniff(Buffer.from('G'))).toBe('undecided');
    expect(sniff(Buffer.from('OPTION'))).toBe('undecided');
    expect(sniff(Buffer.from('P'))).toBe('undecided');
  });

  it('decides bytes as soon as no method can match', () => {
    expect(sniff(Buffer.from('GETTY'))).toBe('bytes');
    expect(sniff(Buffer.from([0x16, 0x03, 0x01]))).toBe('bytes');
    expect(sniff(Buffer.from('get / HTTP/1.1'))).toBe('bytes');
    expect(sniff(Buffer.from('PRI * HTTP/2.0\r\n'))).toBe('bytes');
  });
});
