import { describe, expect, it } from 'vitest';

import { parseIPv4, SourceRanges } from '../../../src/dataplane/lb/source-ranges.js';

describe('parseIPv4', () => {
  it('reads dotted quads and IPv4-mapped IPv6 addresses', () => {
    expect(parseIPv4('127.0.0.1')).toBe(0x7f000001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('::ffff:10.1.2.3')).toBe(0x0a010203);
  });

  it('rejects what is not an IPv4 address', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '2001:db8::1', '1.2.3.4 ']) {
      expect(parseIPv4(text), text).toBe(-1);
    }
  });
});

describe('SourceRanges', () => {
  it('allows every client when no range is given', () => {
    expect(SourceRanges.compile([])).toBeUndefined();
  });

  it('allows clients inside any range and no others', () => {
    const ranges = SourceRanges.compile(['10.1.0.0/16', '192.168.5.7/32']) as SourceRanges;
    expect(['10.1.0.0', '10.1.255.255', '192.168.5.7'].map((a) => ranges.allows(a))).toEqual([true, true, true]);
    expect(['10.2.0.0', '192.168.5.8', undefined, 'not-an-ip'].map((a) => ranges.allows(a))).toEqual([false, false, false, false]);
  });

  it('treats 0.0.0.0/0 as every IPv4 client and never matches IPv4 clients with IPv6 ranges', () => {
    expect(SourceRanges.compile(['0.0.0.0/0'])?.allows('203.0.113.9')).toBe(true);
    expect(SourceRanges.compile(['2001:db8::/32'])?.allows('203.0.113.9')).toBe(false);
  });

  it('uses the network of a range written with host bits set', () => {
    expect(SourceRanges.compile(['10.1.2.3/24'])?.allows('10.1.2.200')).toBe(true);
  });
});
