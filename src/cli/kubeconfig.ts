/**
 * The kubeconfig entry for a running aks-emu (cluster, user and context `aks-emu`), merged
 * into the user's file the way kind does: other clusters, users and contexts are kept, the
 * three `aks-emu` entries are replaced, current-context points at aks-emu.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { AksEmuError } from '../errors/index.js';

export const CONTEXT = 'aks-emu';

type Named = { name: string; [k: string]: unknown };

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  'current-context': string;
  preferences?: unknown;
  [k: string]: unknown;
}

export function kubeconfigFor(server: string, token: string): Kubeconfig {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    // The admin API speaks plain HTTP; @kubernetes/client-node refuses an http:// server unless this is set.
    clusters: [{ name: CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: CONTEXT, user: { token } }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT, namespace: 'default' } }],
    'current-context': CONTEXT,
  };
}

/** --kubeconfig, else the first file of $KUBECONFIG, else ~/.kube/config (kubectl's order). */
export function kubeconfigPath(flag: string | undefined, env = process.env): string {
  if (flag) return flag;
  const first = env.KUBECONFIG?.split(':').find((p) => p !== '');
  return first ?? join(homedir(), '.kube', 'config');
}

export function mergeKubeconfig(existing: unknown, entry: Kubeconfig): Kubeconfig {
  const base = existing && typeof existing === 'object' ? (existing as Partial<Kubeconfig>) : {};
  const replace = (list: unknown, item: Named): Named[] => [...(Array.isArray(list) ? (list as Named[]).filter((x) => x?.name !== item.name) : []), item];
  return {
    ...base,
    apiVersion: 'v1',
    kind: 'Config',
    clusters: replace(base.clusters, entry.clusters[0]!),
    users: replace(base.users, entry.users[0]!),
    contexts: replace(base.contexts, entry.contexts[0]!),
    'current-context': CONTEXT,
  };
}

/** Writes the merged file (0600, via a temporary file so a crash never leaves half a kubeconfig). */
export async function writeKubeconfig(path: string, entry: Kubeconfig): Promise<void> {
  let existing: unknown;
  try {
    existing = parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new AksEmuError('AKS_EMU_USAGE', `kubeconfig ${path} exists but cannot be read or parsed (${(err as Error).message}); not touching it`, {
        cause: err,
      });
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.aks-emu-${process.pid}.tmp`;
  await writeFile(tmp, stringify(mergeKubeconfig(existing, entry)), { mode: 0o600 });
  await rename(tmp, path);
}
