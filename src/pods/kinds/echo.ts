/** The echo pod: every container that no other kind claims. */
import { createEchoPod } from '../echo/echo-pod.js';
import { registerPodKind } from './registry.js';

registerPodKind({
  name: 'echo',
  order: Number.POSITIVE_INFINITY,
  create: (pod, ctx) =>
    createEchoPod(pod, { nodeName: ctx.nodeName, ...(ctx.nodeAddress ? { nodeAddress: ctx.nodeAddress } : {}), policy: () => ctx.networkPolicy?.() }),
});
