/**
 * Regular expressions from manifests (regex Ingress paths, canary-by-header-pattern), matched
 * against what clients send, without letting a client stall the process.
 *
 * ingress-nginx hands them to PCRE (with JIT), a backtracking engine: `/(a+)+$` is accepted
 * there and on a hostile path PCRE stops at its match limit, so nginx answers an error
 * rather than hanging. JavaScript's RegExp has no such limit and runs on the one event loop,
 * so here a pattern is compiled with RE2 (re2js, a pure-JavaScript port: linear time in the
 * input whatever the pattern). RE2 has no lookaround or backreferences; a pattern that needs
 * them falls back to RegExp only when safe-regex2 finds no nested quantifier (star height
 * ≤ 1), and is otherwise rejected with a reason validate reports.
 */
import { RE2JS } from 're2js';
import safeRegex from 'safe-regex2';

export interface SafeRegex {
  readonly source: string;
  /** `re2`: linear time; `backtracking`: RegExp, admitted by safe-regex2's star-height check. */
  readonly engine: 're2' | 'backtracking';
  /** The match as RegExp.exec returns it: [whole, ...groups] and `groups` for named ones. */
  exec(input: string): RegExpExecArray | null;
  test(input: string): boolean;
}

export class UnsafeRegexError extends Error {}

/** PCRE spellings that JavaScript spells differently (RE2 accepts both). */
function toJsSource(source: string): string {
  return source.replace(/\(\?P</g, '(?<');
}

class Re2Regex implements SafeRegex {
  readonly engine = 're2';
  readonly #re: RE2JS;
  readonly #names: [string, number][];

  constructor(
    readonly source: string,
    ignoreCase: boolean,
  ) {
    this.#re = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    this.#names = Object.entries(this.#re.namedGroups());
  }

  exec(input: string): RegExpExecArray | null {
    const m = this.#re.matcher(input);
    if (!m.find()) return null;
    const groups: (string | undefined)[] = [];
    for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
    const result = Object.assign(groups, { index: m.start(), input, groups: undefined as Record<string, string> | undefined });
    if (this.#names.length > 0) {
      const named: Record<string, string> = {};
      for (const [name, i] of this.#names) {
        const value = groups[i];
        if (value !== undefined) named[name] = value;
      }
      result.groups = named;
    }
    return result as unknown as RegExpExecArray;
  }

  test(input: string): boolean {
    return this.#re.matcher(input).find();
  }
}

class BacktrackingRegex implements SafeRegex {
  readonly engine = 'backtracking';
  readonly #re: RegExp;

  constructor(
    readonly source: string,
    ignoreCase: boolean,
  ) {
    this.#re = new RegExp(toJsSource(source), ignoreCase ? 'i' : '');
  }

  exec(input: string): RegExpExecArray | null {
    return this.#re.exec(input);
  }

  test(input: string): boolean {
    return this.#re.test(input);
  }
}

/**
 * Compiles `source`; throws SyntaxError for a pattern no engine accepts, UnsafeRegexError
 * for one only a backtracking engine accepts and that may backtrack catastrophically.
 */
export function compileSafeRegex(source: string, options: { readonly ignoreCase?: boolean } = {}): SafeRegex {
  const ignoreCase = options.ignoreCase ?? false;
  const key = `${ignoreCase ? 'i' : '-'}${source}`;
  let compiled = compiledCache.get(key);
  if (compiled === undefined) {
    // A pattern that does not compile throws afresh each time (its error is the caller's to word).
    compiled = compileUncached(source, ignoreCase);
    // Bounded: a process that sees ever new patterns (the API's writes) starts the cache afresh.
    if (compiledCache.size >= COMPILED_CACHE_LIMIT) compiledCache.clear();
    compiledCache.set(key, compiled);
  }
  return compiled;
}

/**
 * Compiled patterns by source: every snapshot compiles its routers and every write
 * validates its Ingresses again, mostly with the same patterns, and compiling with RE2 is
 * the costly part. Safe to share: neither engine keeps state between matches (RE2 makes a
 * matcher per call; the RegExp has no `g` or `y` flag).
 */
const compiledCache = new Map<string, SafeRegex>();
const COMPILED_CACHE_LIMIT = 4096;

function compileUncached(source: string, ignoreCase: boolean): SafeRegex {
  let re2Error: Error;
  try {
    return new Re2Regex(source, ignoreCase);
  } catch (err) {
    re2Error = err as Error;
  }
  // Throws the SyntaxError of a pattern that is not a regular expression at all.
  const fallback = new BacktrackingRegex(source, ignoreCase);
  if (!safeRegex(toJsSource(source))) {
    throw new UnsafeRegexError(
      `may take exponential time on some inputs (nested quantifiers), and it uses syntax the linear-time engine does not support (${re2Error.message.replace(/^error parsing regexp: /, '')})`,
    );
  }
  return fallback;
}
