import { AksEmuError } from '../errors/index.js';

/** `--server`, else AKS_EMU_SERVER, else the default admin address; `host:port` gets http://. */
export function serverUrl(flag: string | undefined): string {
  const raw = flag ?? process.env.AKS_EMU_SERVER ?? 'http://127.0.0.1:7070';
  return /^https?:\/\//.test(raw) ? raw.replace(/\/$/, '') : `http://${raw}`;
}

export async function adminRequest(server: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${server}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(process.env.AKS_EMU_TOKEN ? { authorization: `Bearer ${process.env.AKS_EMU_TOKEN}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (err) {
    throw new AksEmuError(
      'AKS_EMU_SERVER_UNREACHABLE',
      `cannot reach the aks-emu admin API at ${server} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}); ` +
        'is `aks-emu up` running? Point at it with --server HOST:PORT or AKS_EMU_SERVER',
      { cause: err },
    );
  }
  const text = await res.text();
  const value = text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text;
  if (!res.ok) {
    const status = value as { message?: string; reason?: string } | undefined;
    const reason = status?.reason ? ` (${status.reason})` : '';
    throw new AksEmuError(res.status === 404 ? 'AKS_EMU_NOT_FOUND' : 'AKS_EMU_USAGE', `Error from server${reason}: ${status?.message ?? text}`, {
      status: res.status,
    });
  }
  return value;
}

/** A streamed answer (`logs -f`, `trace -f`): the body as it arrives; a refusal is the server's Status message. */
export async function adminStream(server: string, path: string): Promise<AsyncIterable<Uint8Array>> {
  const res = await fetch(`${server}${path}`, {
    headers: process.env.AKS_EMU_TOKEN ? { authorization: `Bearer ${process.env.AKS_EMU_TOKEN}` } : {},
  }).catch((err: Error) => {
    throw new AksEmuError('AKS_EMU_SERVER_UNREACHABLE', `cannot reach the aks-emu admin API at ${server} (${err.message})`, { cause: err });
  });
  if (!res.ok || !res.body) {
    const status = (await res.json().catch(() => ({}))) as { message?: string; reason?: string };
    throw new AksEmuError(
      res.status === 404 ? 'AKS_EMU_NOT_FOUND' : 'AKS_EMU_USAGE',
      `Error from server (${status.reason ?? res.status}): ${status.message ?? ''}`,
    );
  }
  return res.body as AsyncIterable<Uint8Array>;
}
