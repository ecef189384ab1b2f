/**
 * `aks-emu role toolbox`: prepares a busybox shell on `vnet` to be the
 * "temporary pod" tutorials use (`kubectl run tmp --image=busybox`): ClusterIPs routed through a
 * running node (whose kube-proxy serves them), every node's pod /24 through that node,
 * no default route, and the resolv.conf a pod in `default` gets (kube-dns's ClusterIP,
 * the namespace search path, ndots:5). The entrypoint then execs the user's command.
 */
import { writeFile } from 'node:fs/promises';

import type { Snapshot } from '../../cluster/snapshot.js';
import { AksEmuError } from '../../errors/index.js';
import type { HostNetwork } from './net-setup.js';
import { clusterDnsAddress } from './node-role.js';

export const TOOLBOX_NAMESPACE = 'default';

export function podResolvConf(serviceCIDR: string, namespace = TOOLBOX_NAMESPACE): string {
  return [`nameserver ${clusterDnsAddress(serviceCIDR)}`, `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local`, 'options ndots:5', ''].join(
    '\n',
  );
}

export async function setUpToolbox(snapshot: Snapshot, network: HostNetwork, resolvConfPath = '/etc/resolv.conf'): Promise<string> {
  const gateway = snapshot.nodes.find((n) => n.running) ?? snapshot.nodes[0];
  if (gateway === undefined) throw new AksEmuError('AKS_EMU_NOT_FOUND', 'the cluster has no node to route ClusterIPs through');
  const { serviceCIDR } = snapshot.settings.addresses;
  await network.isolate();
  await network.route(serviceCIDR, gateway.address);
  for (const node of snapshot.nodes) await network.route(node.podCIDR, node.address);
  await writeFile(resolvConfPath, podResolvConf(serviceCIDR));
  return `toolbox: ClusterIPs (${serviceCIDR}) via node ${gateway.name} (${gateway.address}), DNS ${clusterDnsAddress(serviceCIDR)}`;
}
