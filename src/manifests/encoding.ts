/**
 * The characters a manifest may hold. kubectl decodes YAML with go-yaml, whose reader
 * refuses bytes that are not UTF-8 and characters outside YAML's printable set before
 * anything is parsed (yaml.v2 readerc.go), so `kubectl apply` prints
 * `error converting YAML to JSON: yaml: invalid leading UTF-8 octet`. The yaml package
 * used here would instead decode bad bytes as U+FFFD and keep control characters, so
 * both are checked first, with go-yaml's words.
 */
import { isUtf8 } from 'node:buffer';

export interface EncodingProblem {
  /** go-yaml's description, e.g. `invalid leading UTF-8 octet`. */
  readonly problem: string;
  /** 1-based line and column (in characters) of the offending character. */
  readonly line: number;
  readonly col: number;
}

/** go-yaml's printable set: #x9 | #xA | #xD | [#x20-#x7E] | #x85 | [#xA0-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
const NOT_PRINTABLE = /[^\t\n\r\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The first byte sequence go-yaml's UTF-8 reader refuses: its offset and description. */
function firstBadSequence(bytes: Uint8Array): { offset: number; problem: string } | undefined {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]!;
    const width = lead < 0x80 ? 1 : (lead & 0xe0) === 0xc0 ? 2 : (lead & 0xf0) === 0xe0 ? 3 : (lead & 0xf8) === 0xf0 ? 4 : 0;
    if (width === 0) return { offset: i, problem: 'invalid leading UTF-8 octet' };
    if (i + width > bytes.length) return { offset: i, problem: 'incomplete UTF-8 octet sequence' };
    let value = width === 1 ? lead : lead & (0xff >> (width + 1));
    for (let k = 1; k < width; k++) {
      const octet = bytes[i + k]!;
      if ((octet & 0xc0) !== 0x80) return { offset: i + k, problem: 'invalid trailing UTF-8 octet' };
      value = (value << 6) | (octet & 0x3f);
    }
    const shortest = width === 1 || (width === 2 && value >= 0x80) || (width === 3 && value >= 0x800) || (width === 4 && value >= 0x10000);
    if (!shortest) return { offset: i, problem: 'invalid length of a UTF-8 sequence' };
    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) return { offset: i, problem: 'invalid Unicode character' };
    i += width;
  }
  return undefined;
}

/** Line and column of a position in text (column counted in characters, as editors do). */
function position(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return { line, col: [...text.slice(lineStart, index)].length + 1 };
}

/** A character go-yaml would refuse in already-decoded text (a control character, a lone surrogate). */
export function checkCharacters(text: string): EncodingProblem | undefined {
  const match = NOT_PRINTABLE.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0)!;
  const problem = code >= 0xd800 && code <= 0xdfff ? 'invalid Unicode character' : 'control characters are not allowed';
  return { problem, ...position(text, match.index) };
}

/** File bytes → text, or the first problem go-yaml's reader would report. */
export function decodeManifest(bytes: Uint8Array): { text: string } | { problem: EncodingProblem } {
  if (!isUtf8(bytes)) {
    const bad = firstBadSequence(bytes);
    if (bad) {
      // go-yaml reads in order: a control character before the bad bytes is met first.
      const before = Buffer.from(bytes.buffer, bytes.byteOffset, bad.offset).toString('utf8');
      return { problem: checkCharacters(before) ?? { problem: bad.problem, ...position(before, before.length) } };
    }
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const problem = checkCharacters(text);
  return problem ? { problem } : { text };
}

/** `big.yaml:3:7: error converting YAML to JSON: yaml: invalid leading UTF-8 octet` (kubectl's words after the position). */
export function formatEncodingProblem(file: string, p: EncodingProblem): string {
  return `${file}:${p.line}:${p.col}: error converting YAML to JSON: yaml: ${p.problem}`;
}
