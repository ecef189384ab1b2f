import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateKubeSchemas, SCHEMAS_FILE } from '../../scripts/gen-kube-schemas.js';

describe('src/manifests/schema/kube-schemas.json', () => {
  it('is what scripts/gen-kube-schemas.ts generates from kubernetes-types and the served resources', () => {
    // When this fails: node --import tsx scripts/gen-kube-schemas.ts
    expect(readFileSync(SCHEMAS_FILE, 'utf8') === generateKubeSchemas()).toBe(true);
  });

  it('describes every served kind with its GVK and field descriptions', () => {
    const { kinds, schemas } = JSON.parse(readFileSync(SCHEMAS_FILE, 'utf8')) as {
      kinds: Record<string, string>;
      schemas: Record<string, { description?: string; properties?: Record<string, { description?: string }>; 'x-kubernetes-group-version-kind'?: unknown }>;
    };
    expect(kinds['/v1/Service']).toBe('io.k8s.api.core.v1.Service');
    expect(schemas['io.k8s.api.apps.v1.Deployment']!['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    expect(schemas['io.k8s.api.core.v1.ServicePort']!.properties!['port']!.description).toBe('The port that will be exposed by this service.');
  });
});
