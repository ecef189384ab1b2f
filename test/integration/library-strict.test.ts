/**
 * The library reads manifests as `aks-emu up` does: strictly by default, with
 * fieldValidation and namespace as `--validate` and `-n`, and its notices say why a
 * LoadBalancer Service has no frontend.
 */
import { describe, expect, it } from 'vitest';
import { startCluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';

const addresses = addressBlock(23);
const MANIFESTS = `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  selecter: { app: web }
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: Service
metadata:
  name: fixed
  annotations: { service.beta.kubernetes.io/azure-load-balancer-ipv4: 10.9.9.9 }
spec:
  type: LoadBalancer
  ports: [{ port: 81 }]
`;

describe('startCluster and manifests', () => {
  it('refuses an unknown field by default, as kubectl does', async () => {
    await expect(startCluster({ manifests: MANIFESTS, config: { addresses, ingress: { enabled: false } }, admin: false })).rejects.toMatchObject({
      code: 'AKS_EMU_MANIFEST_INVALID',
      message: '<inline> (document 1): Service "web": strict decoding error: unknown field "spec.selecter"',
    });
  });

  it('warns with fieldValidation Warn, puts the objects in the given namespace and says why a frontend is missing', async () => {
    const cluster = await startCluster({
      manifests: MANIFESTS,
      fieldValidation: 'Warn',
      namespace: 'shop',
      config: { addresses, ingress: { enabled: false } },
      admin: false,
      timeScale: 0.01,
    });
    try {
      expect(cluster.notices).toContain('warning: <inline> (document 1): Service "web": unknown field "spec.selecter"');
      expect(cluster.service('web', 'shop').loadBalancerIP).toBe(addresses.publicFrontends.replace('.0.0/16', '.0.1'));
      expect(cluster.service('fixed', 'shop').loadBalancerIP).toBeUndefined();
      expect(cluster.notices).toContain(
        `warning: Service shop/fixed: EXTERNAL-IP stays <pending> (SyncLoadBalancerFailed): Error syncing load balancer: failed to ensure load balancer: findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address 10.9.9.9 in resource group mc_aks-emu (public frontends come from ${addresses.publicFrontends})`,
      );
    } finally {
      await cluster.stop();
    }
  });
});
