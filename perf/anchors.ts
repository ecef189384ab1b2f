/**
 * The anchors: haproxy (mode tcp) for the L4 rows and nginx (reverse proxy with upstream
 * keep-alive) for the ingress row, from Debian's packages, run as child processes in
 * front of the same echo pod. Configs are templates in perf/anchors/, rendered into a
 * temporary folder with the pod's address and a free port on 127.0.0.1.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type AnchorId = 'haproxy' | 'nginx';

/** Debian package per anchor: nginx-light has the proxy and upstream keep-alive modules. */
const PACKAGES: Record<AnchorId, string> = { haproxy: 'haproxy', nginx: 'nginx-light' };
const LISTEN_HOST = '127.0.0.1';

export interface Anchor {
  readonly id: AnchorId;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  readonly config: string;
  stop(): Promise<void>;
}

export function renderTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template value ${key} missing`);
    return String(value);
  });
}

async function findBinary(id: AnchorId): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, id);
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** The binary, installing the Debian package first when it is missing (root with apt-get only). */
export async function ensureInstalled(id: AnchorId, log: (line: string) => void): Promise<string> {
  const found = await findBinary(id);
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`${id} is not installed (install: apt-get install -y --no-install-recommends ${PACKAGES[id]})`);
  const apt = async (...args: string[]) => run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 << 20 });
  log(`installing ${PACKAGES[id]} with apt-get`);
  try {
    await apt('install', '-y', '--no-install-recommends', PACKAGES[id]);
  } catch {
    await apt('update');
    await apt('install', '-y', '--no-install-recommends', PACKAGES[id]);
  }
  const installed = await findBinary(id);
  if (!installed) throw new Error(`${id} still missing after apt-get install ${PACKAGES[id]}`);
  return installed;
}

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when host:port accepts a connection; rejects if `child` exits first or after timeoutMs. */
export async function waitListening(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`not listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function versionOf(binary: string): Promise<string> {
  const { stdout, stderr } = await run(binary, ['-v']).catch(() => ({ stdout: '', stderr: '' }));
  const line = `${stdout}${stderr}`.split('\n')[0] ?? '';
  // `nginx version: nginx/1.22.1`, `HAProxy version 2.6.12-1+deb12u4 2023/...`
  return /(?:nginx\/|HAProxy version )(\S+)/.exec(line)?.[1] ?? line;
}

export interface AnchorOptions {
  readonly backend: { readonly host: string; readonly port: number };
  readonly hostHeader: string;
  /** taskset -c value, or undefined for no pinning. */
  readonly cpus?: string;
  readonly log: (line: string) => void;
}

export async function startAnchor(id: AnchorId, options: AnchorOptions): Promise<Anchor> {
  const binary = await ensureInstalled(id, options.log);
  const dir = await mkdtemp(join(tmpdir(), `aks-emu-perf-${id}-`));
  const port = await freePort(LISTEN_HOST);
  const template = await readFile(new URL(`./anchors/${id === 'haproxy' ? 'haproxy.cfg' : 'nginx.conf'}`, import.meta.url), 'utf8');
  const config = renderTemplate(template, {
    DIR: dir,
    LISTEN_HOST,
    LISTEN_PORT: port,
    BACKEND_HOST: options.backend.host,
    BACKEND_PORT: options.backend.port,
    HOST_HEADER: options.hostHeader,
  });
  const configPath = join(dir, id === 'haproxy' ? 'haproxy.cfg' : 'nginx.conf');
  await writeFile(configPath, config);
  const args = id === 'haproxy' ? [binary, '-f', configPath, '-db'] : [binary, '-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', configPath];
  const argv = options.cpus === undefined ? args : ['taskset', '-c', options.cpus, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(LISTEN_HOST, port, child, 10_000);
  } catch (err) {
    await stop();
    throw new Error(`${id}: ${(err as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  return { id, host: LISTEN_HOST, port, pid: child.pid ?? -1, version: await versionOf(binary), config, stop };
}
