import { describe, expect, it } from 'vitest';
import { unknownFields } from '../../../src/api/kube/field-validation.js';
import { kindSchema } from '../../../src/api/kube/openapi.js';
import { resourceOfKind } from '../../../src/api/kube/resources.js';

const schemaOf = (apiVersion: string, kind: string) => kindSchema(resourceOfKind(apiVersion, kind)!);

describe('unknownFields', () => {
  it('finds fields the schema does not declare, through refs, lists and maps', () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { 'any-key': 'x' }, annotations: { a: 'b' } },
      spec: {
        bogus: 1,
        ports: [
          { port: 80, targetPort: 8080 },
          { port: 81, tragetPort: 8081 },
        ],
        selector: { app: 'web' },
      },
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.1', nope: true }] } },
    };
    expect(unknownFields(schemaOf('v1', 'Service'), service)).toEqual(['spec.bogus', 'spec.ports[1].tragetPort', 'status.loadBalancer.ingress[0].nope']);
  });

  it('accepts a full Deployment, and finds a typo deep in the pod template', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'example/web:1',
                ports: [{ containerPort: 8080 }],
                env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                resources: { requests: { cpu: '100m' } },
                readinessProbe: { httpGet: { path: '/', port: 8080 } },
              },
            ],
          },
        },
      },
    };
    expect(unknownFields(schemaOf('apps/v1', 'Deployment'), deployment)).toEqual([]);
    deployment.spec.template.spec.containers[0]!.readinessProbe = { httpGet: { path: '/', prot: 8080 } } as never;
    expect(unknownFields(schemaOf('apps/v1', 'Deployment'), deployment)).toEqual(['spec.template.spec.containers[0].readinessProbe.httpGet.prot']);
  });
});
