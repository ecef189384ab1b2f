/** A Gateway's pods (Istio's gateway proxy): the generated Deployment marks them with the Gateway they serve. */
import { RUNTIME_ANNOTATION } from '../../cluster/pod-info.js';
import { GATEWAY_POD_ANNOTATION } from '../../cluster/gateway/types.js';
import { createGatewayPod } from '../gateway.js';
import { registerPodKind } from './registry.js';

registerPodKind({
  name: 'gateway',
  order: 1,
  choose: (pod) => {
    const gateway = pod.annotations[GATEWAY_POD_ANNOTATION];
    return pod.annotations[RUNTIME_ANNOTATION] === 'gateway' && gateway !== undefined ? { kind: 'gateway', gateway } : undefined;
  },
  create: (pod, ctx) =>
    createGatewayPod(pod, {
      routerFor: (port) => ctx.gateways.routerFor(pod.runtime.gateway, port),
      protocolOf: (port) => ctx.gateways.protocolOf(pod.runtime.gateway, port),
      tcpTableFor: (port) => ctx.gateways.tcpTableFor(pod.runtime.gateway, port),
      now: () => ctx.clock.now(),
      log: (line) => ctx.log(line),
      ...(ctx.observe === undefined ? {} : { observe: ctx.observe }),
      netpol: () => ctx.networkPolicy?.(),
      faults: ctx.faults,
    }),
});
