/** The built-in ingress-nginx controller: the pods of its Deployment, marked by their template's annotation. */
import { RUNTIME_ANNOTATION } from '../../cluster/pod-info.js';
import { createIngressControllerPod } from '../ingress-controller.js';
import { registerPodKind } from './registry.js';

registerPodKind({
  name: 'ingress-controller',
  order: 0,
  choose: (pod) => (pod.annotations[RUNTIME_ANNOTATION] === 'ingress-controller' ? { kind: 'ingress-controller' } : undefined),
  create: (pod, ctx) =>
    createIngressControllerPod(pod, {
      // Controller pods exist only while the controller is on, and then every snapshot has a router.
      getRouter: () => ctx.getRouter()!,
      nodeName: ctx.nodeName,
      ...(ctx.observe === undefined ? {} : { observe: ctx.observe }),
      netpol: () => ctx.networkPolicy?.(),
      faults: ctx.faults,
    }),
});
