import { describe, expect, it } from 'vitest';
import { KeptStrings } from '../../../src/dataplane/observe/kept-strings.js';

describe('KeptStrings', () => {
  it('gives back each field as pushed: empty, undefined, latin1 bytes above 0x7f, non-latin1 text', () => {
    const kept = new KeptStrings(5);
    const fields = ['/a?b=1', '', undefined, 'caf\u00e9 \u00ff\u0080', 'snow \u2603 \u{1f600}'];
    for (const f of fields) kept.push(f);
    expect(fields.map((_, i) => kept.get(i))).toEqual(fields);
  });

  it('grows past its first buffer without losing the fields before, and starts over after clear()', () => {
    const kept = new KeptStrings(3);
    const long = 'x'.repeat(10_000);
    kept.push('first');
    kept.push(long);
    kept.push('\u00e9'.repeat(3_000));
    expect([kept.get(0), kept.get(1), kept.get(2)]).toEqual(['first', long, '\u00e9'.repeat(3_000)]);
    kept.clear();
    expect(kept.get(0)).toBeUndefined();
    kept.push('again');
    expect(kept.get(0)).toBe('again');
    expect(kept.get(1)).toBeUndefined();
  });

  it('keeps no reference to the strings it was given: a later push does not change an earlier field', () => {
    const kept = new KeptStrings(2);
    let text = 'abc';
    kept.push(text);
    text += 'def';
    kept.push(text);
    expect([kept.get(0), kept.get(1)]).toEqual(['abc', 'abcdef']);
  });

  it('copies short ASCII, short text with non-ASCII after ASCII, and long text alike', () => {
    const fields = ['127.0.0.1', 'a'.repeat(64), `${'a'.repeat(63)}\u00e9`, `${'b'.repeat(65)}\u2603`, '/x/\u{1f600}/y', '\u00e9'];
    const kept = new KeptStrings(fields.length);
    for (const f of fields) kept.push(f);
    expect(fields.map((_, i) => kept.get(i))).toEqual(fields);
  });

  it('keeps a repeated field as the earlier one, undefined included, and the fields after it where they belong', () => {
    const kept = new KeptStrings(6);
    kept.push('/items/7');
    kept.push(undefined);
    kept.repeat(0);
    kept.repeat(1);
    kept.push('after');
    kept.repeat(4);
    expect([0, 1, 2, 3, 4, 5].map((i) => kept.get(i))).toEqual(['/items/7', undefined, '/items/7', undefined, 'after', 'after']);
    kept.clear();
    kept.push('again');
    kept.repeat(0);
    expect([kept.get(0), kept.get(1), kept.get(2)]).toEqual(['again', 'again', undefined]);
    expect(() => kept.repeat(3)).toThrow(RangeError);
  });

  it('refuses more fields than it was made for', () => {
    const kept = new KeptStrings(1);
    kept.push('a');
    expect(() => kept.push('b')).toThrow(RangeError);
  });
});
