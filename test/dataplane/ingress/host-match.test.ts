import { describe, expect, it } from 'vitest';
import { buildHostTable, hostFromHeader, lookupHost } from '../../../src/dataplane/ingress/host-match.js';

describe('hostFromHeader', () => {
  it('lower-cases the host and drops the port and a trailing dot', () => {
    expect(hostFromHeader('Foo.Bar.COM:8080')).toBe('foo.bar.com');
    expect(hostFromHeader('foo.bar.com.')).toBe('foo.bar.com');
    expect(hostFromHeader('[::1]:80')).toBe('[::1]');
    expect(hostFromHeader(undefined)).toBe('');
  });
});

describe('lookupHost', () => {
  const table = buildHostTable([
    ['foo.bar.com', 'exact'],
    ['*.bar.com', 'wildcard'],
  ]);

  it('prefers an exact host over a wildcard', () => {
    expect(lookupHost(table, 'foo.bar.com')).toEqual({ value: 'exact', kind: 'exact' });
    expect(lookupHost(table, 'baz.bar.com')).toEqual({ value: 'wildcard', kind: 'wildcard' });
  });

  it('lets a wildcard cover exactly one label', () => {
    expect(lookupHost(table, 'a.b.bar.com')).toBeUndefined();
    expect(lookupHost(table, 'bar.com')).toBeUndefined();
  });
});
