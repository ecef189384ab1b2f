import { isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { RawObject } from './build.js';

interface Chunk {
  readonly text: string;
  /** 1-based line of the file where the chunk starts. */
  readonly firstLine: number;
  /** A separator line with something other than a comment after `---`. */
  readonly badSeparator?: string;
}

const SEPARATOR = /^---\s*(#.*)?$/;

/**
 * Splits a file into documents the way kubectl's YAMLReader does: at lines starting with
 * `---`, where only a comment may follow; a separator with nothing before it since the
 * last one starts no document. Each chunk is one document, numbered by position, empty
 * ones included, so `(document 3)` means what kubectl users count.
 */
function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let buffer = '';
  let firstLine = 1;
  text.split(/(?<=\n)/).forEach((line, i) => {
    if (!line.startsWith('---')) {
      buffer += line;
      return;
    }
    const separator = line.trimEnd();
    if (buffer !== '') chunks.push({ text: buffer, firstLine });
    if (!SEPARATOR.test(separator)) chunks.push({ text: '', firstLine: i + 1, badSeparator: separator });
    buffer = '';
    firstLine = i + 2;
  });
  if (buffer !== '') chunks.push({ text: buffer, firstLine });
  return chunks;
}

/**
 * A key written twice in one mapping, in go-yaml's words as kubectl prints them (kubectl's
 * strict decoding refuses it, where a lenient reader would keep the last value):
 * `yaml: unmarshal errors: line 7: mapping key "selector" already defined at line 5`.
 * Lines are the file's, like the position before the message.
 */
function duplicateKeyMessage(text: string, at: number, firstLine: number): string | undefined {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  let found: { key: string; first: number } | undefined;
  visit(document, {
    Map(_, map) {
      if (!isMap(map)) return undefined;
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
        const key = String(pair.key.value);
        const first = seen.get(key);
        if (first !== undefined && pair.key.range[0] === at) {
          found = { key, first };
          return visit.BREAK;
        }
        if (first === undefined) seen.set(key, pair.key.range[0]);
      }
      return undefined;
    },
  });
  if (found === undefined) return undefined;
  const line = (offset: number) => firstLine + lineCounter.linePos(offset).line - 1;
  return `error converting YAML to JSON: yaml: unmarshal errors: line ${line(at)}: mapping key ${JSON.stringify(found.key)} already defined at line ${line(found.first)}`;
}

/**
 * One file's documents as objects. A syntax error is recorded as
 * `file:line:col (document n): message`; later errors of the same document are usually
 * consequences of the first and are not repeated.
 */
export function parseYamlDocuments(file: string, text: string, parseErrors: string[]): RawObject[] {
  const objects: RawObject[] = [];
  splitDocuments(text.replace(/^\uFEFF/, '')).forEach((chunk, i) => {
    const doc = i + 1;
    if (chunk.badSeparator !== undefined) {
      parseErrors.push(`${file}:${chunk.firstLine}:1 (document ${doc}): invalid Yaml document separator: ${chunk.badSeparator}`);
      return;
    }
    const lineCounter = new LineCounter();
    const document = parseDocument(chunk.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const [error] = document.errors;
    if (error !== undefined) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const message = (error.code === 'DUPLICATE_KEY' ? duplicateKeyMessage(chunk.text, error.pos[0], chunk.firstLine) : undefined) ?? error.message;
      parseErrors.push(`${file}:${chunk.firstLine + line - 1}:${col} (document ${doc}): ${message}`);
      return;
    }
    try {
      const object: unknown = document.toJS({ maxAliasCount: 100 });
      if (object !== null && object !== undefined) objects.push({ file, doc, object });
    } catch (err) {
      parseErrors.push(`${file} (document ${doc}): ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return objects;
}
