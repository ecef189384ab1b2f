import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { REPO_ROOT } from './app-image.js';
import { LOCAL_BASE_IMAGE } from './docker-available.js';

const run = promisify(execFile);

/** The suite's pod image (test/container/fixtures/pod-app), built on the local base image. */
export const POD_IMAGE = 'aks-emu-test/pod-app:1';

let built: Promise<string> | undefined;

export function ensurePodImage(): Promise<string> {
  built ??= (async () => {
    await run('bash', [join(REPO_ROOT, 'docker/build-local-base.sh')], { timeout: 120_000 });
    await run('docker', ['build', '-q', '--build-arg', `BASE=${LOCAL_BASE_IMAGE}`, '-t', POD_IMAGE, join(REPO_ROOT, 'test/container/fixtures/pod-app')], {
      timeout: 120_000,
    });
    return POD_IMAGE;
  })();
  return built;
}
