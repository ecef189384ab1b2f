/**
 * The pods of one node container and its kubelet: the pods the snapshot schedules on
 * this node, each served by its kind from the pod-kind registry in this container's
 * network namespace on its own pod IP, and the readiness results the node reports to
 * control.
 */
import { EventEmitter } from 'node:events';

import type { ContainerStatusInfo, Snapshot } from '../../cluster/snapshot.js';
import type { ReadinessEvent } from '../../pods/index.js';
import type { ContainerPodFactory } from '../../pods/kinds/index.js';
import { PodSet, type PodSetOptions } from '../../pods/pod-set.js';

export interface NodePodsEvents {
  readiness: [ReadinessEvent];
  notice: [string];
  /** A pod that supervises containers (a process pod) reported new container statuses. */
  status: [string, ContainerStatusInfo[]];
}

export class NodePods extends EventEmitter<NodePodsEvents> {
  readonly #node: string;
  readonly #results = new Map<string, boolean>();
  readonly #statuses = new Map<string, ContainerStatusInfo[]>();
  #forced: Readonly<Record<string, boolean>> = {};
  #pods: PodSet | undefined;
  /** Set before the first reconcile where this node has a container engine. */
  containers: ContainerPodFactory | undefined;
  /** Set before the first reconcile: the trace store, route counters and fault table the L7 pods use. */
  l7: Pick<PodSetOptions, 'observe' | 'faults'> = {};

  constructor(node: string) {
    super();
    this.#node = node;
  }

  /** Readiness as this node's prober last decided it, for the pods running here. */
  readiness(): Record<string, boolean> {
    return Object.fromEntries(this.#results);
  }

  /** Container statuses of the pods here that report them, for control's ClusterState.setPodStatuses. */
  statuses(): Record<string, ContainerStatusInfo[]> {
    return Object.fromEntries(this.#statuses);
  }

  /** Readiness forced through the admin API: the pod's health endpoints follow it. */
  force(forced: Readonly<Record<string, boolean>>): void {
    const before = this.#forced;
    this.#forced = forced;
    for (const key of new Set([...Object.keys(before), ...Object.keys(forced)])) this.#pods?.setHealthy(key, forced[key] !== false);
  }

  /** Starts the pods the snapshot runs on this node and stops the others. */
  async reconcile(snapshot: Snapshot): Promise<void> {
    await this.#podsFor(snapshot).reconcile(
      snapshot,
      (pod) => pod.nodeName === this.#node,
      (key) => this.#forced[key],
    );
  }

  async stop(): Promise<void> {
    await this.#pods?.stop();
  }

  #podsFor(snapshot: Snapshot): PodSet {
    if (this.#pods !== undefined) return this.#pods;
    const pods = new PodSet({
      timeScale: snapshot.settings.timeScale,
      log: (line) => this.emit('notice', line),
      ...(this.containers === undefined ? {} : { containers: this.containers }),
      ...this.l7,
    });
    pods.on('readiness', (event) => {
      this.#results.set(event.podKey, event.ready);
      this.emit('readiness', event);
    });
    pods.on('removed', (key) => {
      this.#results.delete(key);
      this.#statuses.delete(key);
    });
    pods.on('status', (key, statuses) => {
      this.#statuses.set(key, statuses);
      this.emit('status', key, statuses);
    });
    pods.on('notice', (line) => this.emit('notice', line));
    this.#pods = pods;
    return pods;
  }
}
