import { describe, expect, it } from 'vitest';
import type { PathType } from '../../../src/model/types.js';
import { escapePath, normalizePath, PathMatcher } from '../../../src/cluster/ingress/path-match.js';

function matcher(rules: [string, PathType][], regex = false): PathMatcher<string> {
  return new PathMatcher(
    rules.map(([path, pathType]) => ({ path, pathType, target: `${pathType}:${path}` })),
    regex,
  );
}

describe('plain mode', () => {
  const m = matcher([
    ['/foo', 'Prefix'],
    ['/foo', 'Exact'],
    ['/aaa/bbb/', 'Prefix'],
    ['/impl', 'ImplementationSpecific'],
    ['/', 'Prefix'],
  ]);

  it('prefers an Exact rule over the Prefix rule of the same path', () => {
    expect(m.match('/foo')?.target).toBe('Exact:/foo');
    expect(m.match('/foo/x')?.target).toBe('Prefix:/foo');
  });

  it('matches Prefix rules by whole segments and a trailing-slash rule without the slash', () => {
    expect(m.match('/foobar')?.target).toBe('Prefix:/');
    expect(m.match('/aaa/bbb')?.target).toBe('Prefix:/aaa/bbb/');
    expect(m.match('/aaa/bbbc')?.target).toBe('Prefix:/');
  });

  it('matches ImplementationSpecific as a plain string prefix', () => {
    expect(m.match('/implementation')?.target).toBe('ImplementationSpecific:/impl');
  });

  it('is case-sensitive', () => {
    expect(m.match('/FOO')?.target).toBe('Prefix:/');
  });

  it('takes the longest matching prefix whatever the rule order', () => {
    const ordered = matcher([
      ['/a', 'Prefix'],
      ['/a/b/c', 'Prefix'],
      ['/a/b', 'Prefix'],
    ]);
    expect(ordered.match('/a/b/c/d')?.target).toBe('Prefix:/a/b/c');
    expect(ordered.match('/a/b/x')?.target).toBe('Prefix:/a/b');
  });
});

describe('regex mode', () => {
  it('anchors every path at the start, case-insensitively, and takes the first match in rule order', () => {
    const m = matcher(
      [
        ['/foo/bar.*', 'ImplementationSpecific'],
        ['/foo', 'Exact'],
        ['/', 'Prefix'],
      ],
      true,
    );
    expect(m.match('/FOO/BARx')?.target).toBe('ImplementationSpecific:/foo/bar.*');
    expect(m.match('/foo/other')?.target).toBe('Exact:/foo');
    expect(m.match('/x/foo')?.target).toBe('Prefix:/');
  });

  it('exposes the captures for rewrite-target', () => {
    const m = matcher([['/store-front(/|$)(.*)', 'ImplementationSpecific']], true);
    expect(m.match('/store-front/a/b')?.captures?.[2]).toBe('a/b');
  });

  it('accepts PCRE named groups and reports paths that do not compile', () => {
    const m = matcher(
      [
        ['/(?P<id>\\d+)', 'ImplementationSpecific'],
        ['/bad(', 'ImplementationSpecific'],
      ],
      true,
    );
    expect(m.match('/42')?.captures?.groups?.id).toBe('42');
    expect(m.invalid.map((i) => i.path)).toEqual(['/bad(']);
  });
});

describe('normalizePath', () => {
  it("gives nginx's $uri: decoded, slashes merged, dot segments resolved", () => {
    expect(normalizePath('/a%20b')).toBe('/a b');
    expect(normalizePath('/a//b')).toBe('/a/b');
    expect(normalizePath('/a/./b/../c')).toBe('/a/c');
    expect(normalizePath('/a/b/..')).toBe('/a/');
    expect(normalizePath('/plain/path')).toBe('/plain/path');
  });

  it('escapes what a rewritten path may not carry raw', () => {
    expect(escapePath('/a b/ü?')).toBe('/a%20b/%C3%BC%3F');
  });
});

describe('built-in prefix locations in regex mode', () => {
  const m = new PathMatcher(
    [
      { path: '/store-front(/|$)(.*)', pathType: 'ImplementationSpecific' as PathType, target: 'store' },
      { path: '/h', pathType: 'Prefix' as PathType, target: 'h' },
    ],
    true,
    [{ key: '/healthz', target: 'healthz' }],
  );

  it('falls back to the plain /healthz location when no regex matches, as nginx does', () => {
    expect(m.match('/store-front/x')?.target).toBe('store');
    expect(m.match('/metrics')).toBeUndefined();
    expect(m.match('/healthz')?.target).toBe('h');
  });

  it('answers /healthz from the built-in location when only other regexes exist', () => {
    const only = new PathMatcher([{ path: '/api(/|$)(.*)', pathType: 'ImplementationSpecific' as PathType, target: 'api' }], true, [
      { key: '/healthz', target: 'healthz' },
    ]);
    expect(only.match('/healthz')?.target).toBe('healthz');
  });
});
