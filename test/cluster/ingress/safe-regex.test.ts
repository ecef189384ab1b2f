import { describe, expect, it } from 'vitest';
import { compileSafeRegex, UnsafeRegexError } from '../../../src/cluster/ingress/safe-regex.js';
import { compileLocationRegex, PathMatcher } from '../../../src/cluster/ingress/path-match.js';

describe('compileSafeRegex', () => {
  it('matches catastrophic-backtracking patterns in linear time (RE2)', () => {
    const re = compileLocationRegex('/(a+)+$');
    expect(re.engine).toBe('re2');
    // RegExp would take minutes on this path (2^5000 ways to split the a's); RE2 answers at once.
    expect(re.exec(`/${'a'.repeat(5000)}!`)).toBeNull();
    expect(re.exec('/AAA')?.[1]).toBe('AAA');
    const nested = compileSafeRegex('^(a|a)*$');
    expect(nested.test(`${'a'.repeat(20_000)}b`)).toBe(false);
  });

  it('gives the captures RegExp.exec gives: numbered, unmatched as undefined, and named (PCRE (?P<n>) spelling too)', () => {
    const m = compileLocationRegex('/store(/|$)(?P<rest>.*)')!.exec('/store/items/7')!;
    expect([...m]).toEqual(['/store/items/7', '/', 'items/7']);
    expect(m.groups).toEqual({ rest: 'items/7' });
    expect([...compileSafeRegex('^/(x)?y')!.exec('/y')!]).toEqual(['/y', undefined]);
  });

  it('falls back to RegExp for lookaround only when it cannot backtrack catastrophically', () => {
    const look = compileLocationRegex('/(?!admin)[a-z]+');
    expect(look.engine).toBe('backtracking');
    expect(look.test('/shop')).toBe(true);
    expect(look.test('/admin')).toBe(false);
    expect(() => compileLocationRegex('/(?=a)(a+)+$')).toThrow(UnsafeRegexError);
    expect(() => compileLocationRegex('/(?=a)(a+)+$')).toThrow(/exponential time .*\(invalid or unsupported Perl syntax: `\(\?=`\)/);
  });

  it('throws SyntaxError for what is not a regular expression at all', () => {
    expect(() => compileLocationRegex('/a(b')).toThrow(SyntaxError);
  });

  it('keeps first-match order and case-insensitivity in a regex-mode PathMatcher', () => {
    const m = new PathMatcher(
      [
        { path: '/API/v[0-9]+', pathType: 'ImplementationSpecific', target: 'api' },
        { path: '/', pathType: 'Prefix', target: 'root' },
      ],
      true,
    );
    expect(m.match('/api/v2/x')?.target).toBe('api');
    expect(m.match(`/${'a'.repeat(100_000)}`)?.target).toBe('root');
  });
});
