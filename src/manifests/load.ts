import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AksEmuError } from '../errors/index.js';

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

/**
 * The manifest files named by `paths`, in order: a file as given (whatever its
 * extension), a folder as its *.yaml, *.yml and *.json files, recursively, sorted.
 * A file reached twice is read once. Paths keep the user's spelling for messages.
 */
export async function readManifestFiles(paths: readonly string[]): Promise<{ file: string; text: string }[]> {
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
  const unique = files.filter((f) => {
    const key = resolve(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return Promise.all(
    unique.map(async (file) => {
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (err) {
        throw readError(file, err);
      }
    }),
  );
}
