import { describe, expect, it } from 'vitest';
import { MAX_SIZED_BODY, requestedSize, sizedBody } from '../../../src/pods/echo/sized-body.js';

function size(url: string): number | undefined {
  return requestedSize(url, url.indexOf('?'));
}

describe('sized bodies', () => {
  it('reads size from anywhere in the query and ignores URLs without it', () => {
    expect(size('/anything?size=1048576')).toBe(1048576);
    expect(size('/x?a=1&size=7&b=2')).toBe(7);
    expect(size('/x?size=0')).toBe(0);
    expect(size('/x')).toBeUndefined();
    expect(size('/x?resize=5')).toBeUndefined();
    expect(size('/size=5')).toBeUndefined();
  });

  it('flags a size that is not a whole number of bytes within the limit', () => {
    expect(size('/x?size=')).toBeNaN();
    expect(size('/x?size=-1')).toBeNaN();
    expect(size('/x?size=1.5')).toBeNaN();
    expect(size('/x?size=1e6')).toBeNaN();
    expect(size(`/x?size=${MAX_SIZED_BODY + 1}`)).toBeNaN();
    expect(size(`/x?size=${MAX_SIZED_BODY}`)).toBe(MAX_SIZED_BODY);
  });

  it('slices every body from one shared buffer', () => {
    const small = sizedBody(10);
    const large = sizedBody(3 << 20);
    expect(small.toString()).toBe('aks-emu ak');
    expect(large).toHaveLength(3 << 20);
    expect(sizedBody(100).buffer).toBe(large.buffer);
  });
});
