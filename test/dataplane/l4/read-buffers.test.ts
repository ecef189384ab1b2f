import type { Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { afterRead, LARGE_READ, releaseReadBuffer, SMALL_READ, takeReadBuffer } from '../../../src/dataplane/l4/read-buffers.js';

function socket(): Socket {
  return {} as Socket;
}

describe('read buffers', () => {
  it('keeps reading into the same buffer while its bytes were all written', () => {
    const s = socket();
    const first = takeReadBuffer();
    expect(first.length).toBe(SMALL_READ);
    afterRead(s, first, 100, false);
    expect(takeReadBuffer()).toBe(first);
  });

  it('never reads again into a buffer whose bytes are still queued, nor pools it', () => {
    const s = socket();
    const lent = takeReadBuffer();
    afterRead(s, lent, 100, true);
    const next = takeReadBuffer();
    expect(next).not.toBe(lent);
    releaseReadBuffer(s);
    // The pool now holds `next` (free), never `lent`.
    const reused = takeReadBuffer();
    expect(reused).toBe(next);
    expect(reused).not.toBe(lent);
  });

  it('grows after a read fills the buffer and shrinks after a small read, pooling what it let go', () => {
    const s = socket();
    const start = takeReadBuffer();
    afterRead(s, start, SMALL_READ, false);
    const large = takeReadBuffer();
    expect(large.length).toBe(LARGE_READ);
    afterRead(s, large, 10_000, false);
    expect(takeReadBuffer()).toBe(large);
    afterRead(s, large, 100, false);
    const back = takeReadBuffer();
    expect(back.length).toBe(SMALL_READ);
    // The large buffer went back to the pool and serves the next socket that grows.
    afterRead(socket(), back, SMALL_READ, false);
    expect(takeReadBuffer()).toBe(large);
  });
});
