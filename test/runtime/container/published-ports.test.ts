import { describe, expect, it } from 'vitest';

import { GATEWAY_SOURCE_FILE } from '../../../src/cluster/gateway/infrastructure.js';
import { CONTROLLER_SOURCE_FILE } from '../../../src/cluster/ingress/index.js';
import type { Snapshot } from '../../../src/cluster/snapshot.js';
import { publishPlan } from '../../../src/runtime/container/published-ports.js';

/** The parts of a snapshot publishPlan reads: Services (namespace, name, source) and the LB rules, one public frontend each. */
function snapshot(services: { key: string; file: string }[]): Snapshot {
  return {
    services: services.map(({ key, file }) => {
      const [namespace, name] = key.split('/');
      return { namespace, name, source: { file, doc: 1 } };
    }),
    loadBalancers: [
      {
        internal: false,
        rules: services.map(({ key }, i) => ({ protocol: 'TCP', frontendPort: 80, frontendIP: `172.30.0.${i + 1}`, serviceKey: key })),
      },
    ],
  } as unknown as Snapshot;
}

const INGRESS = { key: 'ingress-nginx/ingress-nginx-controller', file: CONTROLLER_SOURCE_FILE };
const GATEWAY = { key: 'default/shop-approuting-istio', file: GATEWAY_SOURCE_FILE };
const WEB = { key: 'default/web', file: 'web.yaml' };

describe('publishPlan', () => {
  it("gives a port to a Gateway's Service before the ingress controller's, as the user's own", () => {
    const plan = publishPlan(snapshot([INGRESS, GATEWAY]), { internal: false });
    expect(plan.published.map((p) => p.serviceKey)).toEqual([GATEWAY.key]);
    expect(plan.shadowed.map((p) => p.serviceKey)).toEqual([INGRESS.key]);
  });

  it('lets the first user Service in snapshot order win, a Gateway Service among them', () => {
    const plan = publishPlan(snapshot([INGRESS, WEB, GATEWAY]), { internal: false });
    expect(plan.published.map((p) => p.serviceKey)).toEqual([WEB.key]);
    expect(plan.shadowed.map((p) => p.serviceKey)).toEqual([GATEWAY.key, INGRESS.key]);
  });

  it('relays an explicit entry to the chosen frontend and the rest on their own port', () => {
    const plan = publishPlan(snapshot([INGRESS, GATEWAY]), { internal: false, explicit: [{ containerPort: 8081, serviceKey: INGRESS.key, frontendPort: 80 }] });
    expect(plan.published.map((p) => [p.containerPort, p.serviceKey])).toEqual([
      [8081, INGRESS.key],
      [80, GATEWAY.key],
    ]);
    expect(plan.shadowed).toEqual([]);
  });
});
