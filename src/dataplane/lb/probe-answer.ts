/**
 * An LB health probe answered without a socket. Azure probes every node of the backend
 * pool on every rule's port every 5 s: 1,000 LoadBalancer Services on 13 nodes are 2,600
 * probe connections a second, each accepted by a NodePort, routed by kube-proxy and handed
 * to a pod that the probe's reset then closes. Most of an idle aks-emu's CPU went there.
 *
 * Before it opens a socket, the prober asks what the connection would meet now. The
 * answer is decided in process only where every step is, by the tables and the code the
 * socket path reads: a listener of this process bound and accepting at the node's
 * address and port (a NodePort of a running node with usable endpoints), and past it, for
 * a TCP probe, kube-proxy's route and pick ending in an in-process pod that a reset
 * connection leaves no trace in (KubeProxy.probeHandOver), with no fault anywhere on the
 * path; for an HTTP probe of a healthCheckNodePort, kube-proxy's status, which no part of
 * the request changes. Everything else (nothing of this process listening, which only the
 * kernel can answer, Https, an HTTP probe of a pod, a fault, a NetworkPolicy drop, a
 * process or container pod, a pod whose accept does something) takes a real socket.
 */
import type { LoadBalancerProbe } from '../../cluster/snapshot.js';
import { listenerKey, type ListenerSpec } from '../l4/listener.js';

/** Why a probe takes a real socket. */
export type ProbeSocketReason =
  /** Probes answered in process are switched off (DataPlaneOptions.probesInProcess). */
  | 'off'
  /** Probes have no fixed source address, so they count like any client. */
  | 'no-probe-source'
  /** No listener of this process accepts at the address and port: only the kernel knows who would. */
  | 'not-bound'
  /** Https, or an HTTP probe of anything but a healthCheckNodePort: the answer needs the request. */
  | 'protocol'
  /** A request path Node's HTTP parser might not take as it is. */
  | 'request-path'
  | 'no-route'
  /** Local policy and no endpoint on the node: kube-proxy drops the flow. */
  | 'no-local-endpoint'
  | 'fault'
  | 'network-policy'
  /** A candidate endpoint is dialled (a process or container pod, or nothing of this process). */
  | 'dialled-endpoint'
  /** A candidate pod's accept does something a reset connection would leave behind. */
  | 'not-quiet';

export type ProbeAnswer =
  /** A TCP probe's handshake completes: it passes. */
  | { readonly kind: 'accepted' }
  /** An HTTP probe's status line. */
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'needs-socket'; readonly reason: ProbeSocketReason };

/** The current spec of the listener bound and accepting at this key, or undefined when none is. */
export type BoundListener = (key: string) => ListenerSpec | undefined;

/** A path Node's parser takes unchanged: printable ASCII without spaces. */
const PLAIN_PATH = /^\/[\x21-\x7e]*$/;

export function answerProbe(probe: LoadBalancerProbe, address: string, bound: BoundListener): ProbeAnswer {
  switch (probe.protocol) {
    case 'Tcp': {
      const spec = bound(listenerKey(address, probe.port, 'nodeport'));
      if (spec?.kind !== 'tcp' || spec.probeHandOver === undefined) return needsSocket('not-bound');
      const reason = spec.probeHandOver();
      return reason === undefined ? { kind: 'accepted' } : needsSocket(reason);
    }
    case 'Http': {
      const spec = bound(listenerKey(address, probe.port, 'health-check'));
      if (spec?.kind !== 'http' || spec.statusOfAnyGet === undefined) return needsSocket(spec === undefined ? 'not-bound' : 'protocol');
      if (!PLAIN_PATH.test(probe.requestPath ?? '/')) return needsSocket('request-path');
      return { kind: 'http', status: spec.statusOfAnyGet() };
    }
    case 'Https':
      return needsSocket('protocol');
  }
}

function needsSocket(reason: ProbeSocketReason): ProbeAnswer {
  return { kind: 'needs-socket', reason };
}
