import { describe, expect, it } from 'vitest';
import { AksEmuError } from '../../src/errors/index.js';
import { loadObjects, parseManifests } from '../../src/manifests/index.js';
import { load } from './helpers.js';

const svc = (namespace?: string, name = 'web') => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
});
const ingressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };

describe('the namespace of objects that name none (up -n, kubectl apply -n)', () => {
  it('puts namespaced objects without a namespace into it, leaves cluster-scoped kinds alone', () => {
    const { manifests } = load([svc(), svc('shop', 'api'), ingressClass], { namespace: 'shop' });
    expect(manifests.services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toEqual(['shop/web', 'shop/api']);
    expect(manifests.ingressClasses.map((c) => c.metadata.namespace)).toEqual(['']);
  });

  it('defaults to "default" without the flag', () => {
    expect(load([svc()]).manifests.services[0]!.metadata.namespace).toBe('default');
  });

  it('refuses an object that names another namespace, in kubectl words, naming file and document', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: other}\n';
    let err: unknown;
    try {
      parseManifests([{ file: 'cm.yaml', text }], { namespace: 'shop' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AksEmuError);
    expect((err as AksEmuError).message).toBe(
      `cm.yaml (document 1): the namespace from the provided object "other" does not match the namespace "shop". You must pass '--namespace=other' to perform this operation.`,
    );
  });

  it('gives the object store the objects with their namespace set', async () => {
    const { raw } = await loadObjects([], [{ file: 'a.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' }], [], { namespace: 'shop' });
    expect(raw.map((r) => (r.object as { metadata: { namespace?: string } }).metadata.namespace)).toEqual(['shop']);
  });
});
