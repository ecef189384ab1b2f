import { describe, expect, it } from 'vitest';
import { ingressControllerObjects } from '../../../src/cluster/ingress/controller-manifests.js';

describe('ingressControllerObjects', () => {
  const objects = ingressControllerObjects({ enabled: true, replicas: 2 });

  it('makes the ingress-nginx Deployment with http/https ports and a /healthz readiness probe on 10254', () => {
    const [deployment] = objects.workloads;
    expect(deployment).toMatchObject({ kind: 'Deployment', replicas: 2, metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' } });
    expect(deployment?.selector).toMatchObject({ 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' });
    const container = deployment?.template.spec.containers[0];
    expect(container?.ports.map((p) => `${p.name}:${p.containerPort}`)).toEqual(['http:80', 'https:443']);
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 10254 });
    expect(deployment?.source.file).toBe('<built-in ingress-nginx: aks-emu.yaml ingress>');
  });

  it('exposes it with a LoadBalancer Service, externalTrafficPolicy Cluster as the chart default', () => {
    const [svc] = objects.services;
    expect(svc?.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', selector: objects.workloads[0]?.selector });
    expect(svc?.spec.ports.map((p) => `${p.name} ${p.port}->${p.targetPort}`)).toEqual(['http 80->http', 'https 443->https']);
  });

  it('installs the nginx and AKS app routing IngressClasses, neither the default', () => {
    expect(objects.ingressClasses.map((c) => [c.metadata.name, c.spec.controller, c.isDefault])).toEqual([
      ['nginx', 'k8s.io/ingress-nginx', false],
      ['webapprouting.kubernetes.azure.com', 'webapprouting.kubernetes.azure.com/nginx', false],
    ]);
  });
});
