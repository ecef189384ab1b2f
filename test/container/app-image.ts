import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { LOCAL_BASE_IMAGE } from './docker-available.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The image the container suite runs; built once per test run from the working tree (AKS_EMU_TEST_IMAGE: a tag of one's own). */
export const TEST_IMAGE = process.env['AKS_EMU_TEST_IMAGE'] ?? 'aks-emu:test';

const run = promisify(execFile);
const STALE_LOCK_MS = 10 * 60_000;

/**
 * Test files run in parallel processes of one vitest run (same parent): the first to get
 * the lock builds dist/, stages the context and builds the image; the others wait for it.
 */
export async function ensureAppImage(): Promise<string> {
  const done = join(tmpdir(), `aks-emu-test-image-${process.ppid}.done`);
  const lock = join(tmpdir(), 'aks-emu-test-image.lock');
  for (;;) {
    if (existsSync(done)) return TEST_IMAGE;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A run killed while building leaves its lock behind; a build never takes this long.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (existsSync(done)) return TEST_IMAGE;
    await run('bash', [join(REPO_ROOT, 'docker/build-local-base.sh')], { timeout: 120_000 });
    // tsc exits non-zero on any type error in the tree, and still emits; the image only needs the emitted files.
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
    if (build.status !== 0) console.warn(`npm run build reported errors (building the image anyway):\n${build.stdout}${build.stderr}`);
    await run('bash', [join(REPO_ROOT, 'docker/prepare-context.sh')], { timeout: 180_000 });
    await run(
      'docker',
      [
        'build',
        '-q',
        '-f',
        join(REPO_ROOT, 'docker/Dockerfile'),
        '--build-arg',
        `BASE=${LOCAL_BASE_IMAGE}`,
        '-t',
        TEST_IMAGE,
        join(REPO_ROOT, 'docker/.context'),
      ],
      {
        timeout: 180_000,
      },
    );
    writeFileSync(done, `${new Date().toISOString()}\n`);
    return TEST_IMAGE;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Docker Compose v2 (`docker compose`) when installed, else the standalone v1 `docker-compose`. */
export function composeIsStandalone(): boolean {
  return spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status !== 0;
}
