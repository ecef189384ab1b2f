import { connect, type Socket } from 'node:net';
import { request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request on a fresh connection (so the LB sees a new flow each time). */
export function httpGet(
  url: string,
  options: { localAddress?: string; headers?: Record<string, string>; method?: string; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent: false, method: options.method ?? 'GET', headers: { connection: 'close', ...options.headers }, localAddress: options.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 5_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** Echo pod JSON through `url`. */
export async function echo(
  url: string,
  options: Parameters<typeof httpGet>[1] = {},
): Promise<Record<string, unknown> & { pod: string; node: string; remoteAddress: string }> {
  const res = await httpGet(url, options);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}: ${res.body}`);
  return JSON.parse(res.body);
}

/** Resolves with the error code of a failed connection, or 'connected'. */
export function connectOutcome(host: string, port: number, options: { localAddress?: string; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host, port, localAddress: options.localAddress });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('connect', () => {
      // A reset right after accept (kube-proxy's refusal emulated for a listening VIP) shows up as ECONNRESET or a close.
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('connected');
      }, options.waitMs ?? 200);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
    });
  });
}
