import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The FROM-scratch stand-in for node:20-bookworm-slim built by docker/build-local-base.sh. */
export const LOCAL_BASE_IMAGE = 'aks-emu/node-base:local';

/** Set to 1 (CI with .ci/docker-setup.sh) to turn a missing Docker engine into a failure. */
export const REQUIRE_DOCKER_ENV = 'AKS_EMU_REQUIRE_DOCKER';

export interface DockerStatus {
  readonly available: boolean;
  /** Why the engine is unusable; empty when available. */
  readonly reason: string;
}

let cached: DockerStatus | undefined;

/** Asks the engine once per test file: `docker info` must exit 0. */
export function dockerStatus(): DockerStatus {
  if (cached !== undefined) return cached;
  const probe = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (probe.error !== undefined) {
    cached = { available: false, reason: `docker could not run: ${probe.error.message}` };
  } else if (probe.status !== 0) {
    const detail = probe.stderr.trim().split('\n')[0] ?? '';
    cached = { available: false, reason: `docker info exited ${String(probe.status)}: ${detail}` };
  } else {
    cached = { available: true, reason: '' };
  }
  return cached;
}

export function dockerRequired(): boolean {
  return process.env[REQUIRE_DOCKER_ENV] === '1';
}

/**
 * A describe block that needs a Docker engine. Without one it is skipped with a
 * visible warning, or fails when AKS_EMU_REQUIRE_DOCKER=1, so CI that set Docker
 * up cannot pass by silently skipping every container test.
 */
export function describeWithDocker(title: string, body: () => void): void {
  const status = dockerStatus();
  if (status.available) {
    describe(title, body);
  } else if (dockerRequired()) {
    describe(title, () => {
      it('has a Docker engine to run against', () => {
        expect.fail(`${REQUIRE_DOCKER_ENV}=1 but ${status.reason} (run .ci/docker-setup.sh)`);
      });
    });
  } else {
    console.warn(`[skip] ${title}: no Docker engine (${status.reason}); run .ci/docker-setup.sh, ` + `or set ${REQUIRE_DOCKER_ENV}=1 to make this a failure`);
    describe.skip(title, body);
  }
}

const execFileAsync = promisify(execFile);

/** Runs the docker CLI and returns its stdout; rejects with stderr on a non-zero exit. */
export async function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await execFileAsync('docker', [...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
