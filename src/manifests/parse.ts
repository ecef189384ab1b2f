import { LineCounter, parseDocument } from 'yaml';
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
      parseErrors.push(`${file}:${chunk.firstLine + line - 1}:${col} (document ${doc}): ${error.message}`);
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
