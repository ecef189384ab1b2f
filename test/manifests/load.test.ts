import { describe, expect, it } from 'vitest';
import { formatLocatedFieldError, ManifestInvalidError } from '../../src/errors/index.js';
import { rejection } from './helpers.js';
import { loadManifests } from '../../src/manifests/index.js';

const FIXTURES = 'test/fixtures/manifests';

describe('loadManifests', () => {
  it('reads a folder recursively, only manifest files, in sorted order', async () => {
    const { manifests } = await loadManifests([`${FIXTURES}/tree`]);
    expect(manifests.services.map((s) => [s.metadata.name, s.source.file])).toEqual([
      ['a', `${FIXTURES}/tree/apps/a-service.yml`],
      ['c', `${FIXTURES}/tree/apps/nested/c-service.json`],
      ['b', `${FIXTURES}/tree/b-service.yaml`],
    ]);
  });

  it('reads files and folders together, each file once', async () => {
    const { manifests } = await loadManifests([`${FIXTURES}/tree/b-service.yaml`, `${FIXTURES}/tree`]);
    expect(manifests.services.map((s) => s.metadata.name)).toEqual(['b', 'a', 'c']);
  });

  it('fails with AKS_EMU_MANIFEST_READ for a path that does not exist', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/tree`, `${FIXTURES}/nope.yaml`]));
    expect(err.code).toBe('AKS_EMU_MANIFEST_READ');
    expect(err.message).toBe(`the path "${FIXTURES}/nope.yaml" does not exist`);
  });

  it('reports every field error of every file at once', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/bad/services.yaml`, `${FIXTURES}/bad/workloads.yaml`, `${FIXTURES}/bad/endpoints.yaml`]));
    expect(err).toBeInstanceOf(ManifestInvalidError);
    expect((err as ManifestInvalidError).errors.map(formatLocatedFieldError)).toEqual([
      `${FIXTURES}/bad/services.yaml (document 2): The Service "web" is invalid: spec.ports[1].name: Required value`,
      `${FIXTURES}/bad/services.yaml (document 3): The Service "api" is invalid: spec.ports[0].port: Invalid value: "eighty": must be an integer`,
      `${FIXTURES}/bad/services.yaml (document 3): The Service "api" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when \`type\` is 'ClusterIP'`,
      `${FIXTURES}/bad/workloads.yaml (document 1): The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: {"app":"website"}: \`selector\` does not match template \`labels\``,
      `${FIXTURES}/bad/workloads.yaml (document 1): The Deployment "web" is invalid: spec.template.spec.containers[0].readinessProbe.httpGet.port: Invalid value: "web": must be the name of a port of this container (containers[].ports[].name)`,
      `${FIXTURES}/bad/endpoints.yaml (document 2): The EndpointSlice "external-db-1" is invalid: endpoints[0].addresses[0]: Invalid value: "10.1.2.3": aks-emu's embedded runtime only dials 127.0.0.0/8`,
    ]);
    expect(err.code).toBe('AKS_EMU_MANIFEST_INVALID');
    expect(err.status).toBe(422);
  });

  it('names both files when an object is defined twice', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/bad/duplicates`]));
    expect(err.message).toBe(
      `${FIXTURES}/bad/duplicates/b.yaml (document 2): The Service "web" is invalid: metadata.name: Invalid value: "web": services "web" already exists (also defined in ${FIXTURES}/bad/duplicates/a.yaml (document 1))`,
    );
  });

  it('answers an old apiVersion the way kubectl does', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/bad/old-ingress.yaml`]));
    expect(err.message).toBe(
      `${FIXTURES}/bad/old-ingress.yaml (document 1): The Ingress "legacy" is invalid: apiVersion: Invalid value: "extensions/v1beta1": no matches for kind "Ingress" in version "extensions/v1beta1"`,
    );
  });

  it('fails with AKS_EMU_MANIFEST_PARSE naming file, line, column and document for YAML syntax errors', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/bad/syntax.yaml`]));
    expect(err.code).toBe('AKS_EMU_MANIFEST_PARSE');
    expect(err.message).toMatch(new RegExp(`^${FIXTURES}/bad/syntax\\.yaml:12:9 \\(document 2\\): `));
  });

  it('fails with AKS_EMU_MANIFEST_PARSE for documents that are not Kubernetes objects', async () => {
    const err = await rejection(loadManifests([`${FIXTURES}/bad/not-objects.yaml`]));
    expect(err.code).toBe('AKS_EMU_MANIFEST_PARSE');
    expect(err.message.split('\n')).toEqual([
      `${FIXTURES}/bad/not-objects.yaml (document 1): error validating data: [apiVersion not set]`,
      `${FIXTURES}/bad/not-objects.yaml (document 2): not a Kubernetes object: expected a mapping with apiVersion and kind, got a list`,
    ]);
  });
});

describe('the bundled manifests', () => {
  it('loads a real-world AKS store manifest without errors', async () => {
    const { manifests, notices } = await loadManifests([`${FIXTURES}/aks-store-all-in-one.yaml`]);
    expect(manifests.services.map((s) => [s.metadata.name, s.spec.type])).toEqual([
      ['mongodb', 'ClusterIP'],
      ['rabbitmq', 'ClusterIP'],
      ['order-service', 'ClusterIP'],
      ['makeline-service', 'NodePort'],
      ['product-service', 'ClusterIP'],
      ['store-front', 'LoadBalancer'],
      ['store-admin', 'LoadBalancer'],
      ['ai-service', 'ExternalName'],
    ]);
    expect(manifests.workloads.map((w) => `${w.kind}/${w.metadata.name}`)).toEqual([
      'StatefulSet/mongodb',
      'StatefulSet/rabbitmq',
      'Deployment/order-service',
      'Deployment/makeline-service',
      'Deployment/product-service',
      'Deployment/store-front',
      'Deployment/store-admin',
      'Deployment/virtual-customer',
    ]);
    const order = manifests.workloads.find((w) => w.metadata.name === 'order-service');
    expect(order?.template.spec.initContainers.map((c) => c.name)).toEqual(['wait-for-rabbitmq']);
    expect(order?.template.spec.containers[0]?.startupProbe?.failureThreshold).toBe(5);
    expect(manifests.ingresses[0]?.spec.rules[0]?.paths[0]).toMatchObject({ path: '/store-front(/|$)(.*)', pathType: 'ImplementationSpecific' });
    expect(manifests.ingresses[0]?.metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target']).toBe('/$2');
    // ConfigMaps are read (containers' env may use them); the ServiceAccount is skipped.
    expect(manifests.configMaps?.map((c) => c.metadata.name)).toEqual(['rabbitmq-enabled-plugins']);
    expect(notices).toEqual([`${FIXTURES}/aks-store-all-in-one.yaml (document 17): skipping ServiceAccount "virtual-customer": kind does not shape traffic`]);
  });

  it('loads examples/store: a three-replica store front behind a LoadBalancer on port 80', async () => {
    const { manifests, notices } = await loadManifests(['examples/store']);
    const storeFront = manifests.workloads.find((w) => w.metadata.name === 'store-front');
    expect(storeFront).toMatchObject({ kind: 'Deployment', replicas: 3 });
    expect(storeFront?.template.spec.containers[0]?.readinessProbe?.httpGet?.path).toBe('/health');
    const ports = Object.fromEntries(manifests.services.map((s) => [s.metadata.name, [s.spec.type, s.spec.ports.map((p) => p.port)]]));
    expect(ports).toEqual({
      rabbitmq: ['ClusterIP', [5672, 15672]],
      'order-service': ['ClusterIP', [3000]],
      'product-service': ['ClusterIP', [3002]],
      'store-front': ['LoadBalancer', [80]],
    });
    expect(manifests.workloads.find((w) => w.metadata.name === 'rabbitmq')?.kind).toBe('StatefulSet');
    expect(notices).toEqual([]);
  });
});
