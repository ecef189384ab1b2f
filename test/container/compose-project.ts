/**
 * One `docker compose up` of compose.yaml for a container test file: the suite's image,
 * a manifests folder, free host ports, and the admin API's URL. compose.yaml gives its
 * networks fixed subnets (AKS's ranges), so two projects cannot exist at once: a
 * cross-process lock serializes the files of one vitest run (and runs from other
 * checkouts on this machine) from up to down.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';

import { composeIsStandalone, ensureAppImage, REPO_ROOT } from './app-image.js';
import { docker } from './docker-available.js';
import { ensurePodImage } from './pod-image.js';

process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

const run = promisify(execFile);
const LOCK = join(tmpdir(), 'aks-emu-test-compose.lock');

export interface Json {
  [key: string]: unknown;
}

export interface ComposeProject {
  readonly name: string;
  /** The suite's image (aks-emu:test), for throwaway shells on the project's networks. */
  readonly image: string;
  readonly env: NodeJS.ProcessEnv;
  /** The admin API on the host: http://127.0.0.1:PORT */
  readonly adminUrl: string;
  /** Runs `docker compose` (or docker-compose) on this project. */
  compose(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** The container id of a service of this project. */
  container(service: string): Promise<string>;
  /** The host port Docker published for a service's container port. */
  hostPort(service: string, port: number): Promise<number>;
  admin(path: string): Promise<Json>;
  /** Down even after a failure: containers, then the networks; releases the lock. */
  down(): Promise<void>;
}

export interface ComposeProjectOptions {
  /** Relative to the repository, e.g. ./test/container/fixtures/manifests */
  readonly manifests: string;
  /** AKS_EMU_CONTAINER_IMAGES: the images that run as real containers ('' for none). */
  readonly containerImages: string;
  /** The compose project name before its random suffix (default aks-emu-test), to tell whose containers are whose. */
  readonly projectPrefix?: string;
  /** More compose variables (e.g. AKS_EMU_PROXY_MODE). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Polls until check yields a value (errors count as not yet); never sleeps blindly past the condition. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined; // released meanwhile, or not written yet
  }
}

/** Takes the compose lock, waiting while a live process holds it (a dead holder's lock is taken over). */
async function lock(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      const holder = lockHolder();
      // No pid yet: the holder is between mkdir and write; wait for it.
      if (holder !== undefined && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export async function startComposeProject(options: ComposeProjectOptions): Promise<ComposeProject> {
  const [image] = await Promise.all([ensureAppImage(), ensurePodImage()]);
  const name = `${options.projectPrefix ?? 'aks-emu-test'}-${randomBytes(3).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AKS_EMU_IMAGE: image,
    AKS_EMU_CONTAINER_IMAGES: options.containerImages,
    AKS_EMU_MANIFESTS: options.manifests,
    AKS_EMU_TIME_SCALE: '0.05',
    // Empty: Docker picks free host ports, so the suite never collides with a running deployment.
    AKS_EMU_ADMIN_PORT: '',
    AKS_EMU_HTTP_PORT: '',
    AKS_EMU_INGRESS_HTTP_PORT: '',
    AKS_EMU_INGRESS_HTTPS_PORT: '',
    ...options.env,
  };
  const standalone = composeIsStandalone();
  const compose = async (args: readonly string[], timeoutMs = 60_000): Promise<string> => {
    const [file, prefix] = standalone ? ['docker-compose', []] : ['docker', ['compose']];
    const { stdout } = await run(file, [...prefix, '-p', name, '-f', 'compose.yaml', ...args], { cwd: REPO_ROOT, env, timeout: timeoutMs });
    return stdout;
  };
  const container = async (service: string): Promise<string> =>
    (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${name}`, '--filter', `label=com.docker.compose.service=${service}`])).trim();
  const hostPort = async (service: string, port: number): Promise<number> =>
    Number((await docker(['port', await container(service), String(port)])).trim().split(':').pop());

  const release = await lock();
  let environment: StartedDockerComposeEnvironment | undefined;
  const down = async (): Promise<void> => {
    await environment?.down({ timeout: 2_000, removeVolumes: true }).catch((err: Error) => console.warn(`compose down ${name}: ${err.message}`));
    if (environment === undefined)
      spawnSync(standalone ? 'docker-compose' : 'docker', [...(standalone ? [] : ['compose']), '-p', name, '-f', 'compose.yaml', 'down', '-t', '1'], {
        cwd: REPO_ROOT,
        env,
      });
    release();
  };
  try {
    environment = await new DockerComposeEnvironment(REPO_ROOT, 'compose.yaml')
      .withProjectName(name)
      .withEnvironment(env as Record<string, string>)
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(120_000)
      .withClientOptions(standalone ? { executable: { standalone: true } } : {})
      .up();
  } catch (err) {
    await down();
    throw err;
  }
  const adminUrl = `http://127.0.0.1:${await hostPort('control', 7070)}`;
  const admin = async (path: string): Promise<Json> => (await (await fetch(`${adminUrl}${path}`)).json()) as Json;
  return { name, image, env, adminUrl, compose, container, hostPort, admin, down };
}
