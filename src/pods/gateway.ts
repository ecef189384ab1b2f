/**
 * A Gateway's pod (Istio's gateway proxy, istio-proxy in the generated Deployment): one
 * HTTP or HTTPS listener per listener port of its Gateway, each routing with that port's
 * table, and Istio's status port 15021 answering `GET /healthz/ready`, which the pod's
 * readinessProbe targets. The L7 machinery is the ingress controller's (L7Pod).
 */
import type { PodInfo } from '../cluster/snapshot.js';
import { GATEWAY_STATUS_PORT } from '../cluster/gateway/types.js';
import type { Router } from '../dataplane/ingress/router.js';
import { L7Pod, type Listener } from './ingress-controller.js';
import type { PodRuntime } from './pod-runtime.js';

export interface GatewayPodOptions {
  /** The router of a listener port (an empty one when the port has no table yet). */
  routerFor(port: number): Router;
  /** HTTPS for ports whose listeners terminate TLS; read when the pod starts. */
  protocolOf(port: number): 'HTTP' | 'HTTPS';
  readonly random?: () => number;
}

/** The ports the Deployment declares, bar the status port, as HTTP or HTTPS listeners. */
export function gatewayListeners(pod: PodInfo, protocolOf: (port: number) => 'HTTP' | 'HTTPS'): Listener[] {
  const listeners: Listener[] = [];
  for (const container of pod.containers) {
    for (const p of container.ports) {
      if (p.protocol !== 'TCP' || p.containerPort === GATEWAY_STATUS_PORT || listeners.some((l) => l.port === p.containerPort)) continue;
      listeners.push({ port: p.containerPort, kind: protocolOf(p.containerPort) === 'HTTPS' ? 'https' : 'http' });
    }
  }
  listeners.push({ port: GATEWAY_STATUS_PORT, kind: 'health' });
  return listeners;
}

export function createGatewayPod(pod: PodInfo, options: GatewayPodOptions): PodRuntime {
  return new L7Pod(pod, {
    listeners: gatewayListeners(pod, options.protocolOf),
    routerFor: options.routerFor,
    health: { port: GATEWAY_STATUS_PORT, path: '/healthz/ready' },
    sharedProxy: false,
    random: options.random,
  });
}
