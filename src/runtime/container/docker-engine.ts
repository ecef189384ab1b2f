/**
 * The Docker Engine API over its unix socket (undici), for the container pod kind: image
 * presence and pull, containers (create, start, stop with a grace period, wait, remove,
 * logs), networks. Only what a kubelet-like node needs; errors carry the engine's own
 * message, which the pod status shows (as kubelet shows the CRI's).
 */
import { Pool } from 'undici';

import { AksEmuError } from '../../errors/index.js';

export const DOCKER_SOCKET = '/var/run/docker.sock';

/** An engine answer that is not 2xx: its status and message (`No such image: ...`). */
export class DockerApiError extends AksEmuError {
  constructor(
    readonly statusCode: number,
    readonly engineMessage: string,
    what: string,
  ) {
    super(statusCode === 404 ? 'AKS_EMU_NOT_FOUND' : 'AKS_EMU_PLATFORM', `${what}: ${engineMessage} (Docker Engine API ${statusCode})`);
  }
}

export interface ContainerSpec {
  readonly name: string;
  readonly Image: string;
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Env?: readonly string[];
  readonly WorkingDir?: string;
  readonly Hostname?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly HostConfig?: {
    readonly NetworkMode?: string;
    readonly CapAdd?: readonly string[];
    readonly Init?: boolean;
    readonly AutoRemove?: boolean;
  };
  readonly NetworkingConfig?: {
    readonly EndpointsConfig: Readonly<Record<string, { readonly IPAMConfig?: { readonly IPv4Address: string } }>>;
  };
}

export interface ContainerState {
  readonly Status: string;
  readonly Running: boolean;
  readonly ExitCode: number;
  readonly OOMKilled: boolean;
  readonly StartedAt: string;
  readonly FinishedAt: string;
  readonly Error: string;
}

export interface ContainerInspect {
  readonly Id: string;
  readonly Name: string;
  readonly State: ContainerState;
  readonly Config: { readonly Image: string; readonly Labels: Record<string, string> | null };
  readonly NetworkSettings: { readonly Networks: Record<string, { readonly IPAddress: string; readonly NetworkID: string }> };
}

export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly State: string;
  readonly Labels: Record<string, string>;
}

export interface NetworkInspect {
  readonly Id: string;
  readonly Name: string;
  readonly IPAM: { readonly Config: readonly { readonly Subnet?: string; readonly Gateway?: string }[] | null };
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly output: readonly LogLine[];
}

type Method = 'GET' | 'POST' | 'DELETE';

export class DockerEngine {
  /** A pool without a connection limit: each wait on a container holds a connection open until it exits. */
  readonly #client: Pool;

  constructor(readonly socketPath = DOCKER_SOCKET) {
    this.#client = new Pool('http://docker', { socketPath, bodyTimeout: 0, headersTimeout: 0 });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#text('GET', '/_ping', 'ping')) === 'OK';
    } catch {
      return false;
    }
  }

  async imageExists(image: string): Promise<boolean> {
    const res = await this.#client.request({ method: 'GET', path: `/images/${encodeURIComponent(image)}/json` });
    const body = await res.body.text();
    if (res.statusCode === 404) return false;
    if (res.statusCode >= 300) throw new DockerApiError(res.statusCode, messageOf(body), `inspect image ${image}`);
    return true;
  }

  /**
   * Pulls an image; the engine answers 200 and reports a failure inside the progress stream,
   * so every line is read for an `error` field.
   */
  async pullImage(image: string): Promise<void> {
    const { name, tag } = splitImage(image);
    const query = new URLSearchParams({ fromImage: name, tag });
    const res = await this.#client.request({ method: 'POST', path: `/images/create?${query}` });
    const body = await res.body.text();
    if (res.statusCode >= 300) throw new DockerApiError(res.statusCode, messageOf(body), `pull ${image}`);
    for (const line of body.split('\n')) {
      if (line.trim() === '') continue;
      const parsed = JSON.parse(line) as { error?: string };
      if (parsed.error !== undefined) throw new DockerApiError(500, parsed.error, `pull ${image}`);
    }
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const { name, ...body } = spec;
    const created = await this.#json<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, `create container ${name}`, body);
    return created.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.#text('POST', `/containers/${id}/start`, `start container ${id.slice(0, 12)}`);
  }

  /** SIGTERM (or the image's STOPSIGNAL), then SIGKILL after `graceSeconds`. */
  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    const t = Math.max(0, Math.ceil(graceSeconds));
    await this.#text('POST', `/containers/${id}/stop?t=${t}`, `stop container ${id.slice(0, 12)}`, undefined, [304, 404]);
  }

  async killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.#text('POST', `/containers/${id}/kill?signal=${signal}`, `kill container ${id.slice(0, 12)}`, undefined, [404, 409]);
  }

  async removeContainer(id: string): Promise<void> {
    await this.#text('DELETE', `/containers/${id}?force=true`, `remove container ${id.slice(0, 12)}`, undefined, [404]);
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.#json<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`, `inspect container ${id}`);
  }

  /** Resolves with the exit code once the container stops (at once if it already has). */
  async waitContainer(id: string): Promise<number> {
    const res = await this.#json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, `wait for container ${id.slice(0, 12)}`);
    return res.StatusCode;
  }

  /** Containers (running or not) carrying every label given. */
  listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    return this.#json<ContainerSummary[]>('GET', `/containers/json?all=true&filters=${encodeURIComponent(filters)}`, 'list containers');
  }

  /**
   * Runs a command in a running container (`docker exec`) and resolves with its exit code and
   * output once it ends. The engine hijacks the connection for the output stream and closes
   * it when the command exits.
   */
  async exec(id: string, cmd: readonly string[], env: readonly string[] = []): Promise<ExecResult> {
    const what = `exec ${cmd[0] ?? ''} in container ${id.slice(0, 12)}`;
    const created = await this.#json<{ Id: string }>('POST', `/containers/${id}/exec`, what, { Cmd: cmd, Env: env, AttachStdout: true, AttachStderr: true });
    const res = await this.#client.request({
      method: 'POST',
      path: `/exec/${created.Id}/start`,
      body: JSON.stringify({ Detach: false, Tty: false }),
      headers: { 'content-type': 'application/json' },
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 300) throw new DockerApiError(res.statusCode, messageOf(body.toString('utf8')), what);
    const inspect = await this.#json<{ ExitCode: number | null }>('GET', `/exec/${created.Id}/json`, what);
    return { exitCode: inspect.ExitCode ?? -1, output: demuxLines(body) };
  }

  /** The container's output so far, split into lines per stream (a container without a TTY). */
  async logs(id: string, options: { readonly tail?: number; readonly timestamps?: boolean } = {}): Promise<LogLine[]> {
    const query = new URLSearchParams({
      stdout: '1',
      stderr: '1',
      tail: options.tail === undefined ? 'all' : String(options.tail),
      timestamps: options.timestamps ? '1' : '0',
    });
    const res = await this.#client.request({ method: 'GET', path: `/containers/${id}/logs?${query}` });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 300) throw new DockerApiError(res.statusCode, messageOf(body.toString('utf8')), `logs of container ${id.slice(0, 12)}`);
    return demuxLines(body);
  }

  inspectNetwork(name: string): Promise<NetworkInspect> {
    return this.#json<NetworkInspect>('GET', `/networks/${encodeURIComponent(name)}`, `inspect network ${name}`);
  }

  listNetworks(): Promise<NetworkInspect[]> {
    return this.#json<NetworkInspect[]>('GET', '/networks', 'list networks');
  }

  async #request(method: Method, path: string, what: string, body: unknown, tolerate: readonly number[]): Promise<string> {
    const res = await this.#client.request({
      method,
      path,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300 && !tolerate.includes(res.statusCode)) throw new DockerApiError(res.statusCode, messageOf(text), what);
    return text;
  }

  #text(method: Method, path: string, what: string, body?: unknown, tolerate: readonly number[] = []): Promise<string> {
    return this.#request(method, path, what, body, tolerate);
  }

  async #json<T>(method: Method, path: string, what: string, body?: unknown): Promise<T> {
    return JSON.parse(await this.#request(method, path, what, body, [])) as T;
  }
}

function messageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    return parsed.message ?? body.trim();
  } catch {
    return body.trim();
  }
}

/** `registry:5000/app:1` → name `registry:5000/app`, tag `1`; no tag means `latest`; a digest stays in the name. */
export function splitImage(image: string): { name: string; tag: string } {
  if (image.includes('@')) return { name: image, tag: '' };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { name: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { name: image, tag: 'latest' };
}

/**
 * A non-TTY container's log stream is multiplexed: frames of an 8-byte header (stream
 * 1 = stdout, 2 = stderr; bytes 4-7 the payload length, big endian) and the payload.
 */
export function demuxLines(buffer: Buffer): LogLine[] {
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const lines: LogLine[] = [];
  for (let offset = 0; offset + 8 <= buffer.length;) {
    const stream = buffer[offset] === 2 ? 'stderr' : 'stdout';
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
    const parts = (partial[stream] + payload).split('\n');
    partial[stream] = parts.pop() ?? '';
    for (const text of parts) lines.push({ stream, text });
  }
  for (const stream of ['stdout', 'stderr'] as const) if (partial[stream] !== '') lines.push({ stream, text: partial[stream] });
  return lines;
}
