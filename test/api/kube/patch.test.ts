import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../../src/api/kube/patch.js';

const deployment = {
  spec: {
    replicas: 2,
    template: {
      metadata: { annotations: { a: '1' } },
      spec: {
        containers: [
          { name: 'web', image: 'web:1', env: [{ name: 'A', value: '1' }] },
          { name: 'side', image: 'side:1' },
        ],
      },
    },
  },
};

describe('strategic merge patch', () => {
  it('merges containers by name and env by name, keeping the rest', () => {
    const out = strategicMergePatch(deployment, {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2', env: [{ name: 'B', value: '2' }] }] } } },
    }) as typeof deployment;
    expect(out.spec.template.spec.containers).toEqual([
      {
        name: 'web',
        image: 'web:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      { name: 'side', image: 'side:1' },
    ]);
  });

  it('deletes a list element with $patch: delete and a field with null (kubectl rollout restart adds an annotation)', () => {
    const out = strategicMergePatch(deployment, {
      spec: {
        template: {
          metadata: { annotations: { a: null, 'kubectl.kubernetes.io/restartedAt': 'now' } },
          spec: { containers: [{ name: 'side', $patch: 'delete' }] },
        },
      },
    }) as typeof deployment;
    expect(out.spec.template.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/restartedAt': 'now' });
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['web']);
  });

  it('merges Service ports by port', () => {
    const svc = { spec: { ports: [{ port: 80, nodePort: 30080 }, { port: 443 }] } };
    expect(strategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 8080 }] } })).toEqual({
      spec: { ports: [{ port: 80, nodePort: 30080, targetPort: 8080 }, { port: 443 }] },
    });
  });
});

describe('JSON merge patch and JSON patch', () => {
  it('replaces lists whole in a merge patch', () => {
    expect(mergePatch(deployment, { spec: { replicas: 5, template: null } })).toEqual({ spec: { replicas: 5 } });
  });

  it('applies RFC 6902 operations all or nothing', () => {
    const doc = { metadata: { labels: { a: '1' } }, list: [1, 2] };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/metadata/labels/b', value: '2' },
        { op: 'remove', path: '/list/0' },
        { op: 'replace', path: '/metadata/labels/a', value: 'x' },
      ]),
    ).toEqual({ metadata: { labels: { a: 'x', b: '2' } }, list: [2] });
    expect(() =>
      jsonPatch(doc, [
        { op: 'add', path: '/metadata/labels/c', value: '3' },
        { op: 'test', path: '/list/0', value: 9 },
      ]),
    ).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    expect(doc.metadata.labels).toEqual({ a: '1' });
  });
});
