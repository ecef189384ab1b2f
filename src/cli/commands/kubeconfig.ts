import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand } from '../args.js';
import { kubeconfigFor, kubeconfigPath, writeKubeconfig } from '../kubeconfig.js';
import { stringify } from 'yaml';

export const kubeconfigHelp = `Print (or merge into a file) a kubeconfig with the context "aks-emu" for a running aks-emu.

Usage: aks-emu kubeconfig [--server HOST:PORT] [--write [--kubeconfig PATH]]

Flags:
      --server HOST:PORT  admin API of the running aks-emu (default $AKS_EMU_SERVER or 127.0.0.1:7070)
      --write             merge the context into $KUBECONFIG or ~/.kube/config instead of printing it
      --kubeconfig PATH   the file --write merges into`;

export async function kubeconfig(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseCommand('kubeconfig', argv, { server: { type: 'string' }, write: { type: 'boolean' }, kubeconfig: { type: 'string' } }, false);
  if (values.help) {
    out(kubeconfigHelp);
    return 0;
  }
  const { server, token } = (await adminRequest(serverUrl(values.server), '/aks-emu/v1/credentials')) as { server: string; token: string };
  const entry = kubeconfigFor(server, token);
  if (!values.write) {
    out(stringify(entry).trimEnd());
    return 0;
  }
  const path = kubeconfigPath(values.kubeconfig);
  await writeKubeconfig(path, entry);
  out(`Set kubectl context to "aks-emu" in ${path}`);
  return 0;
}
