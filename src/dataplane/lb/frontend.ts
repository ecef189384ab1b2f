/**
 * One LB rule's frontend: what the Azure LB does with a new flow to frontendIP:port.
 * Source ranges first, then a healthy backend node by the rule's distribution, then
 * delivery to that node. Clients inside the cluster never reach the Azure LB: kube-proxy
 * on their node captures LB IPs, so they go to their own node's kube-proxy.
 */
import type { Socket } from 'node:net';

import type { LoadBalancingRule } from '../../cluster/snapshot.js';
import type { Distribution } from '../balance/distribution.js';
import { resetSocket } from '../l4/reset.js';
import { flowVerdict } from '../observe/flow.js';
import { increment, type RuleCounters } from '../stats.js';
import type { IdleTimeout } from './idle-timeout.js';
import type { NodeDelivery, NodeTrafficHandler } from './node-delivery.js';
import type { BackendSet } from './prober.js';
import type { SourceRanges } from './source-ranges.js';

export interface FrontendOptions {
  readonly rule: LoadBalancingRule;
  /** `namespace/name:portName` of the Service port behind the rule. */
  readonly servicePort: string;
  readonly counters: RuleCounters;
  readonly backends: BackendSet;
  readonly distribution: Distribution;
  readonly idle: IdleTimeout;
  readonly sourceRanges: SourceRanges | undefined;
  readonly delivery: NodeDelivery;
  /** Pod and node addresses → their node. */
  readonly inCluster: ReadonlyMap<string, NodeTrafficHandler>;
}

export class Frontend {
  constructor(private readonly options: FrontendOptions) {}

  accept(client: Socket): void {
    const { counters, sourceRanges, servicePort } = this.options;
    counters.connections++;
    const clientIP = client.remoteAddress;
    if (sourceRanges !== undefined && !sourceRanges.allows(clientIP)) {
      counters.rejectedBySourceRange++;
      flowVerdict(client, 'rejected_source_range');
      resetSocket(client);
      return;
    }
    const local = clientIP === undefined ? undefined : this.options.inCluster.get(clientIP);
    if (local !== undefined) {
      counters.inCluster++;
      if (local.running) local.acceptExternal(client, servicePort);
      else resetSocket(client);
      return;
    }
    const node = this.options.distribution.pick(this.options.backends.healthy, client);
    if (node === undefined) {
      counters.noHealthyBackend++;
      flowVerdict(client, 'no_healthy_backend');
      resetSocket(client);
      return;
    }
    increment(counters.nodePicks, node.name);
    if (!this.options.delivery.deliver(client, node, servicePort, this.options.idle, this.options.rule.backendPort)) counters.backendUnreachable++;
  }
}
