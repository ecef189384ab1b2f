import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';

import { ConnectionTracker } from '../../../src/dataplane/l4/connection-tracker.js';
import { installLastResort, listenerGuard } from '../../../src/dataplane/l4/listener-guard.js';
import { Listener, listenerKey, type ListenerSpec } from '../../../src/dataplane/l4/listener.js';
import { addressBlock } from '../../helpers/addresses.js';
import { rawExchange, statusOf } from '../../helpers/raw.js';

const ADDRESS = addressBlock(12).nodeSubnet.replace(/0\.0\/16$/, '9.1');

function errorsOf(listener: string): number {
  return listenerGuard.counts().find((c) => c.listener === listener)?.errors ?? 0;
}

describe('the listener guard', () => {
  const open: Listener[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
  });

  async function bind(spec: ListenerSpec): Promise<void> {
    const listener = new Listener(
      spec,
      () => spec,
      new ConnectionTracker(),
      () => {},
    );
    open.push(listener);
    await listener.listen();
  }

  it('resets the connection whose handler threw, counts it, and serves the next one', async () => {
    const description = 'a TCP listener whose handler throws on "boom"';
    let calls = 0;
    await bind({
      kind: 'tcp',
      key: listenerKey(ADDRESS, 4001, 'lb'),
      address: ADDRESS,
      port: 4001,
      role: 'lb',
      description,
      accept(socket) {
        calls++;
        if (calls === 1) throw new TypeError('boom');
        socket.resume();
        socket.end('hello');
      },
    });
    const before = errorsOf(description);
    expect(await rawExchange(ADDRESS, 4001, 'x')).toBe('reset');
    expect(errorsOf(description)).toBe(before + 1);
    expect(await rawExchange(ADDRESS, 4001, 'x')).toBe('hello');
  });

  it('answers nothing to the request whose handler threw and keeps the HTTP listener up', async () => {
    const description = 'an HTTP listener whose handler throws on /boom';
    await bind({
      kind: 'http',
      key: listenerKey(ADDRESS, 4002, 'healthz'),
      address: ADDRESS,
      port: 4002,
      role: 'healthz',
      description,
      respond(req, res) {
        if (req.url === '/boom') throw new RangeError('boom');
        res.end('ok');
      },
    });
    const before = errorsOf(description);
    const answer = await rawExchange(ADDRESS, 4002, 'GET /boom HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(answer)).toBeUndefined();
    expect(errorsOf(description)).toBe(before + 1);
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: ADDRESS, port: 4002, path: '/', agent: false }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('ok');
  });

  it('as a last resort survives an I/O error and hands a programming error to fatal', () => {
    const fatal: unknown[] = [];
    const uninstall = installLastResort((error) => fatal.push(error));
    try {
      const io = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
      process.emit('uncaughtException', io);
      expect(fatal).toEqual([]);
      const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
      process.emit('uncaughtException', bug);
      expect(fatal).toEqual([bug]);
      expect(listenerGuard.counts().find((c) => c.listener === 'process')?.lastError).toBe(bug.message);
    } finally {
      uninstall();
    }
  });
});
