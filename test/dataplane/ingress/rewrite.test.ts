import { describe, expect, it } from 'vitest';
import { appRootLocation, applyRewrite, parseRewriteTarget, sslRedirectLocation } from '../../../src/dataplane/ingress/rewrite.js';

function rewrite(pattern: string, uri: string, target: string, query = ''): string {
  const captures = new RegExp(`^${pattern}`, 'i').exec(uri);
  if (!captures) throw new Error('no match');
  return applyRewrite(parseRewriteTarget(target), captures, query, false);
}

describe('rewrite-target', () => {
  it('substitutes capture groups and keeps the query string', () => {
    expect(rewrite('/something(/|$)(.*)', '/something', '/$2')).toBe('/');
    expect(rewrite('/something(/|$)(.*)', '/something/new', '/$2')).toBe('/new');
    expect(rewrite('/store-front(/|$)(.*)', '/store-front/x', '/$2', 'q=1')).toBe('/x?q=1');
  });

  it('sends every path to / with a target of / (the common surprise)', () => {
    expect(rewrite('/app', '/app/deep/page', '/', 'a=1')).toBe('/?a=1');
  });

  it("appends the request's arguments after the target's own, unless the target ends with ?", () => {
    expect(rewrite('/old', '/old', '/new?x=1', 'q=2')).toBe('/new?x=1&q=2');
    expect(rewrite('/old', '/old', '/new?', 'q=2')).toBe('/new');
  });

  it('supports named groups', () => {
    expect(rewrite('/u/(?<id>\\d+)', '/u/7', '/users/${id}')).toBe('/users/7');
  });
});

describe('redirects', () => {
  it('builds the ssl-redirect location without port and without one trailing slash', () => {
    expect(sslRedirectLocation('foo.com:8080', '/a/')).toBe('https://foo.com/a');
    expect(sslRedirectLocation('foo.com', '/')).toBe('https://foo.com');
    expect(sslRedirectLocation('foo.com', '/a/?x=1')).toBe('https://foo.com/a/?x=1');
  });

  it('builds the app-root location from the scheme and the Host header', () => {
    expect(appRootLocation('http', 'approot.bar.com', '/foo')).toBe('http://approot.bar.com/foo');
  });
});
