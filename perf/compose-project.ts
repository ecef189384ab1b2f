/**
 * The container runtime's compose deployment as the container perf scripts
 * (container-lb.ts, container-idle.ts) drive it: one throwaway project from compose.yaml with
 * the image AKS_EMU_IMAGE (or aks-emu:test), built-in echo pods only, no host ports, and the
 * kube-proxy and lb modes asked for; plus the docker calls they share. Compose v2
 * (`docker compose`) is used where it answers, v1 (`docker-compose`) otherwise.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('..', import.meta.url));

export type ForwardingMode = 'nftables' | 'userspace';
export const FORWARDING_MODES: readonly string[] = ['nftables', 'userspace'] satisfies ForwardingMode[];

export interface ProjectOptions {
  /** The project name's prefix; a random suffix keeps two runs apart. */
  readonly prefix: string;
  /** The manifests folder control mounts (a path relative to the repository, or absolute). */
  readonly manifests: string;
  readonly proxyMode: string;
  readonly lbMode: string;
}

export const docker = async (args: string[]): Promise<string> => (await run('docker', args, { timeout: 120_000 })).stdout.trim();
export const pidOf = async (container: string): Promise<string> => docker(['inspect', '-f', '{{.State.Pid}}', container]);
export const addressOn = async (container: string, network: string): Promise<string> =>
  docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container]);

/** Polls `check` until it gives a value (a throw counts as not yet). */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const hasComposeV2 = (): Promise<boolean> =>
  run('docker', ['compose', 'version']).then(
    () => true,
    () => false,
  );

export class ComposeProject {
  readonly name: string;
  readonly image = process.env['AKS_EMU_IMAGE'] ?? 'aks-emu:test';
  readonly #env: NodeJS.ProcessEnv;

  constructor(options: ProjectOptions) {
    this.name = `${options.prefix}-${randomBytes(3).toString('hex')}`;
    this.#env = {
      ...process.env,
      AKS_EMU_IMAGE: this.image,
      AKS_EMU_MANIFESTS: options.manifests,
      AKS_EMU_CONTAINER_IMAGES: '',
      AKS_EMU_TIME_SCALE: '0.05',
      AKS_EMU_PROXY_MODE: options.proxyMode,
      AKS_EMU_LB_MODE: options.lbMode,
      AKS_EMU_ADMIN_PORT: '',
      AKS_EMU_HTTP_PORT: '',
      AKS_EMU_INGRESS_HTTP_PORT: '',
      AKS_EMU_INGRESS_HTTPS_PORT: '',
    };
  }

  /** The network compose created for `network` (public, vnet, ...). */
  network(network: string): string {
    return `${this.name}_${network}`;
  }

  async compose(args: string[], timeoutMs = 300_000): Promise<string> {
    const [file, prefix] = (await hasComposeV2()) ? ['docker', ['compose']] : ['docker-compose', []];
    return (await run(file, [...prefix, '-p', this.name, '-f', 'compose.yaml', ...args], { cwd: REPO, env: this.#env, timeout: timeoutMs })).stdout;
  }

  /** The admin API's address on the host, once `up` has run. */
  async admin(): Promise<string> {
    const port = (await this.compose(['port', 'control', '7070'])).trim().split(':').pop();
    return `http://127.0.0.1:${port}`;
  }

  /** A throwaway shell container of the image on the project's `network`. */
  async shell(name: string, network: string): Promise<void> {
    await docker(['run', '-d', '--name', name, '--network', this.network(network), '--entrypoint', 'sleep', this.image, '3600']);
  }

  async down(): Promise<void> {
    await this.compose(['down', '-t', '2'], 180_000).catch((err: Error) => console.error(`compose down: ${err.message}`));
  }
}

/** A LoadBalancer Service's first frontend IP and first port's NodePort, once it has one. */
export async function loadBalancer(admin: string, namespace: string, name: string): Promise<{ ip: string; nodePort: number }> {
  return until(`the LoadBalancer IP of ${namespace}/${name}`, async () => {
    const s = (await (await fetch(`${admin}/api/v1/namespaces/${namespace}/services/${name}`)).json()) as {
      spec: { ports: { nodePort: number }[] };
      status: { loadBalancer: { ingress?: { ip: string }[] } };
    };
    const ip = s.status.loadBalancer.ingress?.[0]?.ip;
    return ip === undefined ? undefined : { ip, nodePort: s.spec.ports[0]!.nodePort };
  });
}
