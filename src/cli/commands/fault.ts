import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';

export const nodeHelp = `Stop or start an emulated node (its NodePorts, kube-proxy and pods), as a VM failure would.

Usage: aks-emu node stop|start NAME [--server HOST:PORT]`;

export const podHelp = `Force a pod's readiness, or hand it back to its readiness probes; or crash a process pod.

Usage: aks-emu pod ready|unready|probe|kill NAME [-n NS] [--server HOST:PORT]

  kill   the pod's processes die at once (SIGKILL); kubelet's restart and back-off follow`;

export async function node(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommand('node', argv, { server: { type: 'string' } });
  if (values.help) {
    out(nodeHelp);
    return 0;
  }
  const [action, name] = positionals;
  if ((action !== 'stop' && action !== 'start') || !name) throw usageError('node', 'expected: node stop|start NAME');
  await adminRequest(serverUrl(values.server), `/aks-emu/v1/nodes/${encodeURIComponent(name)}/${action}`, { method: 'POST', body: {} });
  out(`node/${name} ${action === 'stop' ? 'stopped' : 'started'}`);
  return 0;
}

export async function pod(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommand('pod', argv, { namespace: { type: 'string', short: 'n' }, server: { type: 'string' } });
  if (values.help) {
    out(podHelp);
    return 0;
  }
  const [action, name] = positionals;
  const ns = values.namespace ?? 'default';
  if (action === 'kill' && name) {
    await adminRequest(serverUrl(values.server), `/aks-emu/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/kill`, {
      method: 'POST',
      body: {},
    });
    out(`pod/${name} killed`);
    return 0;
  }
  const ready = { ready: true, unready: false, probe: null }[action ?? ''];
  if (ready === undefined || !name) throw usageError('pod', 'expected: pod ready|unready|probe|kill NAME');
  await adminRequest(serverUrl(values.server), `/aks-emu/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/readiness`, {
    method: 'PUT',
    body: { ready },
  });
  out(`pod/${name} ${action === 'probe' ? 'readiness follows its probes' : action}`);
  return 0;
}
