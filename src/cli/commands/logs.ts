/**
 * `aks-emu logs [-f] [--previous] [-c CONTAINER] pod/NAME | deploy/NAME | NAME [-n NS]`:
 * a process pod's output through the API server's log path, as `kubectl logs` prints it.
 * For deploy/NAME (and other workloads) kubectl picks one of its pods; so does this.
 */
import { adminRequest, adminStream, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';
import { AksEmuError } from '../../errors/index.js';

export const logsHelp = `Print the logs of a container in a process pod, or the ingress controller's access log
(aks-emu logs -n ingress-nginx deploy/ingress-nginx-controller).

Usage: aks-emu logs [-f] [-p] [-c CONTAINER] pod/NAME|deploy/NAME|NAME [-n NS] [--server HOST:PORT]

Flags:
  -f, --follow      keep printing new lines until interrupted
  -p, --previous    the instance before the last restart
  -c, --container   the container (default: the pod's first)`;

const WORKLOAD_PREFIXES: Record<string, string> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  'deployment.apps': 'Deployment',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
  rc: 'ReplicationController',
  replicationcontroller: 'ReplicationController',
};

interface PodList {
  items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] } }[];
}

async function podOf(server: string, ns: string, target: string): Promise<string> {
  const slash = target.indexOf('/');
  if (slash < 0) return target;
  const [kind, name] = [target.slice(0, slash).toLowerCase(), target.slice(slash + 1)];
  if (kind === 'pod' || kind === 'pods' || kind === 'po') return name;
  const workloadKind = WORKLOAD_PREFIXES[kind];
  if (!workloadKind) throw usageError('logs', `unsupported resource "${kind}": use pod/NAME, deploy/NAME, sts/NAME, ds/NAME or rc/NAME`);
  const pods = (await adminRequest(server, `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`)) as PodList;
  // A Deployment's pods are owned by its ReplicaSet `<deploy>-<hash>`.
  const pod = pods.items.find((p) =>
    (p.metadata.ownerReferences ?? []).some((o) =>
      workloadKind === 'Deployment' ? o.kind === 'ReplicaSet' && o.name.startsWith(`${name}-`) : o.kind === workloadKind && o.name === name,
    ),
  );
  if (!pod) throw new AksEmuError('AKS_EMU_NOT_FOUND', `${kind}/${name}: no pods found in namespace "${ns}"`);
  return pod.metadata.name;
}

export async function logs(argv: string[], out: (line: string) => void, write: (chunk: Buffer | string) => void): Promise<number> {
  const { values, positionals } = parseCommand('logs', argv, {
    follow: { type: 'boolean', short: 'f' },
    previous: { type: 'boolean', short: 'p' },
    container: { type: 'string', short: 'c' },
    namespace: { type: 'string', short: 'n' },
    server: { type: 'string' },
  });
  if (values.help) {
    out(logsHelp);
    return 0;
  }
  const [target, extra] = positionals;
  if (!target || extra !== undefined) throw usageError('logs', 'expected exactly one of pod/NAME, deploy/NAME or NAME');
  const server = serverUrl(values.server);
  const ns = values.namespace ?? 'default';
  const name = await podOf(server, ns, target);
  const query = new URLSearchParams();
  if (values.container) query.set('container', values.container);
  if (values.previous) query.set('previous', 'true');
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/log`;
  if (!values.follow) {
    write(String(await adminRequest(server, `${path}?${query}`)));
    return 0;
  }
  query.set('follow', 'true');
  const body = await adminStream(server, `${path}?${query}`);
  for await (const chunk of body) write(Buffer.from(chunk));
  return 0;
}
