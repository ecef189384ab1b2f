/**
 * Location matching, reproducing the nginx locations ingress-nginx generates
 * (template.go buildLocation, location.go updateServerLocations):
 *
 * - Plain mode. Exact `/p` is `location = /p`. Prefix `/p` becomes `location = /p` plus
 *   `location /p/` (whole segments; Kubernetes: a rule `/p/` also serves `/p`), unless an
 *   Exact `/p` exists, which wins. ImplementationSpecific `/p` is `location /p`: a plain
 *   string prefix without the segment rule. nginx takes an exact match, else the longest
 *   matching prefix; all case-sensitive.
 * - Regex mode (some Ingress on the host has use-regex or a rewrite-target): every path is
 *   `location ~* "^<path>"`, a case-insensitive regex anchored at the start, so Exact
 *   behaves like a prefix too; the first match wins, in ingress-nginx's order (longest
 *   path first).
 */
import type { PathType } from '../../model/types.js';
import { compileSafeRegex, type SafeRegex } from './safe-regex.js';

export interface PathRule<T> {
  readonly path: string;
  readonly pathType: PathType;
  readonly target: T;
}

export interface PathMatch<T> {
  readonly target: T;
  /** Regex mode: the match, whose groups feed rewrite-target. */
  readonly captures?: RegExpExecArray;
  /** How it matched, for explain: `exact`, `prefix <key>` or `regex <source>`. */
  readonly how: string;
}

interface PrefixEntry<T> {
  readonly key: string;
  readonly target: T;
  readonly how: string;
}

interface RegexEntry<T> {
  readonly re: SafeRegex;
  readonly target: T;
  readonly how: string;
}

/** `location ~* "^<path>"`: linear-time where possible (safe-regex.ts); throws for a pattern validate reports. */
export function compileLocationRegex(path: string): SafeRegex {
  return compileSafeRegex(`^${path}`, { ignoreCase: true });
}

export class PathMatcher<T> {
  readonly regexMode: boolean;
  readonly #exact = new Map<string, T>();
  readonly #prefixes: PrefixEntry<T>[] = [];
  readonly #regexes: RegexEntry<T>[] = [];
  /** Paths whose regex does not compile (nginx -t would reject the configuration). */
  readonly invalid: { readonly path: string; readonly error: string }[] = [];

  /** `rules` in ingress-nginx's location order; `extraPrefixes` are built-in plain locations (healthz). */
  constructor(rules: readonly PathRule<T>[], regexMode: boolean, extraPrefixes: readonly { key: string; target: T }[] = []) {
    this.regexMode = regexMode;
    if (regexMode) {
      for (const rule of rules) {
        try {
          const re = compileLocationRegex(rule.path);
          this.#regexes.push({ re, target: rule.target, how: `regex ^${rule.path} (case-insensitive)` });
        } catch (err) {
          this.invalid.push({ path: rule.path, error: (err as Error).message });
        }
      }
      // nginx tries regex locations first and falls back to the longest plain prefix
      // location, so the `_` server's /healthz still answers when no regex matches.
      for (const extra of extraPrefixes) this.#addPrefix(extra.key, extra.target);
      return;
    }
    for (const rule of rules) {
      if (rule.pathType === 'Exact') this.#addExact(rule.path, rule.target);
    }
    for (const rule of rules) {
      if (rule.pathType === 'Exact') continue;
      if (rule.pathType === 'ImplementationSpecific' || rule.path === '/') {
        this.#addPrefix(rule.path, rule.target);
        continue;
      }
      const base = rule.path.replace(/\/+$/, '');
      if (base === '') {
        this.#addPrefix('/', rule.target);
        continue;
      }
      this.#addExact(base, rule.target);
      this.#addPrefix(`${base}/`, rule.target);
    }
    for (const extra of extraPrefixes) this.#addPrefix(extra.key, extra.target);
    // Longest prefix wins; equal keys were deduplicated above, so the sort order is total.
    this.#prefixes.sort((a, b) => b.key.length - a.key.length);
  }

  match(path: string): PathMatch<T> | undefined {
    if (this.regexMode) {
      for (const entry of this.#regexes) {
        const captures = entry.re.exec(path);
        if (captures) return { target: entry.target, captures, how: entry.how };
      }
      for (const entry of this.#prefixes) {
        if (path.startsWith(entry.key)) return { target: entry.target, how: entry.how };
      }
      return undefined;
    }
    const exact = this.#exact.get(path);
    if (exact !== undefined) return { target: exact, how: 'exact' };
    for (const entry of this.#prefixes) {
      if (path.startsWith(entry.key)) return { target: entry.target, how: entry.how };
    }
    return undefined;
  }

  /** Every target in evaluation order, for explain. */
  describe(): { readonly how: string; readonly target: T }[] {
    if (this.regexMode) return [...this.#regexes, ...this.#prefixes].map((e) => ({ how: e.how, target: e.target }));
    return [...[...this.#exact].map(([key, target]) => ({ how: `exact ${key}`, target })), ...this.#prefixes.map((e) => ({ how: e.how, target: e.target }))];
  }

  #addExact(key: string, target: T): void {
    if (!this.#exact.has(key)) this.#exact.set(key, target);
  }

  #addPrefix(key: string, target: T): void {
    if (!this.#prefixes.some((e) => e.key === key)) this.#prefixes.push({ key, target, how: `prefix ${key}` });
  }
}

const NEEDS_NORMALISING = /%|\/\/|\/\.(?:\/|\.|$)/;

/**
 * nginx's `$uri`: percent-decoded, `//` merged, `.` and `..` segments resolved. Location
 * matching and rewrites work on it; unchanged requests are proxied with their raw URI.
 */
export function normalizePath(rawPath: string): string {
  if (!NEEDS_NORMALISING.test(rawPath)) return rawPath;
  let path = rawPath;
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // Not valid UTF-8 percent-encoding: nginx still matches bytes; keep the raw form.
    }
  }
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else if (seg === '.') {
      if (last) out.push('');
    } else if (seg !== '' || last) {
      out.push(seg);
    }
  }
  return `/${out.join('/')}`;
}

// eslint-disable-next-line no-control-regex -- nginx escapes the control characters too
const UNSAFE_IN_PATH = /[\x00-\x20"#%<>?\\^`{|}\x7f-\u{10ffff}]/gu;

/** ngx_escape_uri for a rewritten path: what nginx sends upstream after a rewrite of a decoded `$uri`. */
export function escapePath(path: string): string {
  return path.replace(UNSAFE_IN_PATH, (c) => encodeURIComponent(c));
}
