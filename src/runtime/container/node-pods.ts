/**
 * The pods of one node container and its kubelet: the pods scheduled on this node (echo
 * pods, and replicas of the built-in ingress controller routing with the snapshot's
 * ingress configuration) in this container's network namespace, each on its own pod IP,
 * and the readiness prober whose results the node reports to control.
 */
import { EventEmitter } from 'node:events';

import type { PodInfo, Snapshot } from '../../cluster/snapshot.js';
import { buildRouter, type Router } from '../../dataplane/ingress/index.js';
import { createEchoPod, ReadinessProber, type PodRuntime, type ReadinessEvent } from '../../pods/index.js';
import { createIngressControllerPod } from '../../pods/ingress-controller.js';
import { GatewayRouters } from '../gateway.js';

export interface NodePodsEvents {
  readiness: [ReadinessEvent];
  notice: [string];
}

const keyOf = (pod: PodInfo): string => `${pod.namespace}/${pod.name}`;

export class NodePods extends EventEmitter<NodePodsEvents> {
  readonly #node: string;
  readonly #pods = new Map<string, PodRuntime>();
  readonly #results = new Map<string, boolean>();
  #forced: Readonly<Record<string, boolean>> = {};
  #prober: ReadinessProber | undefined;
  #router: Router | undefined;
  #ingressConfig: unknown;
  readonly #gatewayRouters = new GatewayRouters();
  #address = '';

  constructor(node: string) {
    super();
    this.#node = node;
  }

  /** Readiness as this node's prober last decided it, for the pods running here. */
  readiness(): Record<string, boolean> {
    return Object.fromEntries(this.#results);
  }

  /** Readiness forced through the admin API: the pod's health endpoints follow it. */
  force(forced: Readonly<Record<string, boolean>>): void {
    this.#forced = forced;
    for (const [key, pod] of this.#pods) pod.setHealthy(forced[key] !== false);
  }

  /** Starts the pods the snapshot runs on this node and stops the others. */
  async reconcile(snapshot: Snapshot): Promise<void> {
    const node = snapshot.nodes.find((n) => n.name === this.#node);
    this.#address = node?.address ?? '';
    if (snapshot.ingress !== undefined && snapshot.ingress.config !== this.#ingressConfig) {
      this.#ingressConfig = snapshot.ingress.config;
      this.#router = buildRouter(snapshot.ingress.config);
    }
    this.#gatewayRouters.update(snapshot.gateway);
    const prober = this.#proberFor(snapshot);
    const wanted = new Map<string, PodInfo>();
    if (node?.running) {
      for (const pod of snapshot.pods) if (pod.nodeName === this.#node && pod.phase === 'Running') wanted.set(keyOf(pod), pod);
    }
    const stops: Promise<void>[] = [];
    for (const [key, runtime] of this.#pods) {
      if (wanted.has(key)) continue;
      this.#pods.delete(key);
      this.#results.delete(key);
      prober.unwatch(key);
      stops.push(runtime.stop());
    }
    await Promise.all(stops);
    const starts: Promise<void>[] = [];
    for (const [key, pod] of wanted) {
      const existing = this.#pods.get(key);
      if (existing !== undefined) {
        existing.update(pod);
        continue;
      }
      const runtime =
        pod.runtime === 'ingress-controller' && this.#router !== undefined
          ? createIngressControllerPod(pod, { getRouter: () => this.#router!, nodeName: this.#node })
          : pod.runtime === 'gateway'
            ? this.#gatewayRouters.createPod(pod)
            : createEchoPod(pod, { nodeName: this.#node, nodeAddress: this.#address });
      if (this.#forced[key] === false) runtime.setHealthy(false);
      this.#pods.set(key, runtime);
      starts.push(runtime.start().then(() => prober.watch(pod)));
    }
    const failed = (await Promise.allSettled(starts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async stop(): Promise<void> {
    this.#prober?.stop();
    const pods = [...this.#pods.values()];
    this.#pods.clear();
    await Promise.allSettled(pods.map((p) => p.stop()));
  }

  #proberFor(snapshot: Snapshot): ReadinessProber {
    if (this.#prober !== undefined) return this.#prober;
    // kubelet probes from its node, so a pod sees the node's address as the probe's source.
    const prober = new ReadinessProber({ timeScale: snapshot.settings.timeScale, sourceAddress: () => this.#address || undefined });
    prober.on('readiness', (event) => {
      if (!this.#pods.has(event.podKey)) return;
      this.#results.set(event.podKey, event.ready);
      this.emit('readiness', event);
    });
    prober.on('notice', (line) => this.emit('notice', line));
    this.#prober = prober;
    return prober;
  }
}
