import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AksEmuError } from '../errors/index.js';
import { decodeManifest, formatEncodingProblem } from './encoding.js';
import { fileTooLarge, sizeLimits, tooLargeError, totalTooLarge, type SizeLimits } from './limits.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return filesUnder(path);
      return entry.isFile() && MANIFEST_FILE.test(entry.name) ? [path] : [];
    }),
  );
  return nested.flat();
}

function readError(path: string, err: unknown): AksEmuError {
  const code = (err as NodeJS.ErrnoException).code;
  // kubectl's wording for `-f` with a path that is not there.
  const message = code === 'ENOENT' ? `the path "${path}" does not exist` : `the path "${path}" could not be read: ${(err as Error).message}`;
  return new AksEmuError('AKS_EMU_MANIFEST_READ', message, { cause: err });
}

/** The manifest files named by `paths`, in order, each once: a file as given, a folder as its manifest files, sorted. */
async function manifestFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      throw readError(path, err);
    }
    if (isDirectory) files.push(...(await filesUnder(path)).sort());
    else files.push(path);
  }
  const seen = new Set<string>();
  return files.filter((f) => {
    const key = resolve(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** At most `limit` + 1 bytes: enough to tell a file that grew past the limit (or a pipe) from one that fits. */
async function readBounded(handle: FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total <= limit) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

export interface ManifestSources {
  readonly files: { file: string; text: string }[];
  /** Files whose bytes go-yaml would refuse (not UTF-8, control characters): parse errors, one line each. */
  readonly encodingErrors: string[];
}

/**
 * The manifest files named by `paths` (a file as given whatever its extension, a folder
 * as its *.yaml, *.yml and *.json files, recursively, sorted; each file once; paths keep
 * the user's spelling for messages), read within the size limits. Sizes are checked from
 * the file system before any byte is read, and every file over a limit is named at once.
 */
export async function readManifestSources(paths: readonly string[], limits: SizeLimits): Promise<ManifestSources> {
  const sized: { file: string; size: number }[] = [];
  for (const file of await manifestFiles(paths)) {
    try {
      sized.push({ file, size: (await stat(file)).size });
    } catch (err) {
      throw readError(file, err);
    }
  }
  const problems = sized.filter((f) => f.size > limits.maxFileBytes).map((f) => fileTooLarge(f.file, f.size, limits));
  const total = sized.reduce((sum, f) => sum + f.size, 0);
  if (problems.length === 0 && total > limits.maxTotalBytes) problems.push(totalTooLarge(total, sized.length, limits));
  if (problems.length > 0) throw tooLargeError(problems);

  const files: { file: string; text: string }[] = [];
  const encodingErrors: string[] = [];
  let read = 0;
  for (const { file } of sized) {
    let bytes: Buffer;
    try {
      const handle = await open(file, 'r');
      try {
        bytes = await readBounded(handle, Math.min(limits.maxFileBytes, limits.maxTotalBytes - read));
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw readError(file, err);
    }
    // A file that grew since its size was taken, or one without a size (a pipe).
    if (bytes.length > limits.maxFileBytes) throw tooLargeError([fileTooLarge(file, limits.maxFileBytes, limits, true)]);
    read += bytes.length;
    if (read > limits.maxTotalBytes) throw tooLargeError([totalTooLarge(read, sized.length, limits)]);
    const decoded = decodeManifest(bytes);
    if ('text' in decoded) files.push({ file, text: decoded.text });
    else encodingErrors.push(formatEncodingProblem(file, decoded.problem));
  }
  return { files, encodingErrors };
}

/** The files' texts; AKS_EMU_MANIFEST_PARSE when one is not UTF-8 or holds control characters. */
export async function readManifestFiles(paths: readonly string[], limits: SizeLimits = sizeLimits({})): Promise<{ file: string; text: string }[]> {
  const { files, encodingErrors } = await readManifestSources(paths, limits);
  if (encodingErrors.length > 0) throw new AksEmuError('AKS_EMU_MANIFEST_PARSE', encodingErrors.join('\n'));
  return files;
}
