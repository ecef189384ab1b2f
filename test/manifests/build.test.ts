import { describe, expect, it } from 'vitest';
import { AksEmuError } from '../../src/errors/index.js';
import { parseManifests, parseObjects } from '../../src/manifests/index.js';
import { fieldErrors, load, service } from './helpers.js';

function thrown(f: () => unknown): AksEmuError {
  try {
    f();
  } catch (err) {
    if (err instanceof AksEmuError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('documents and kinds', () => {
  it('numbers documents as kubectl splits them, counting empty ones', () => {
    const a = 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n';
    const b = a.replace('name: a', 'name: b');
    const docs = (text: string) => parseManifests([{ file: 'multi.yaml', text }]).manifests.services.map((s) => [s.metadata.name, s.source.doc]);
    // A comment-only section is a (skipped) document; a leading `---` starts none.
    expect(docs(`# licence header\n---\n${a}---\n# nothing here\n---\n${b}`)).toEqual([
      ['a', 2],
      ['b', 4],
    ]);
    expect(docs(`---\n${a}--- # next\n${b}`)).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('places syntax errors on the line of the file, not of the document', () => {
    const err = thrown(() => parseManifests([{ file: 'x.yaml', text: 'a: 1\n---\nb: [\n' }]));
    expect(err.message).toMatch(/^x\.yaml:4:1 \(document 2\): /);
    expect(thrown(() => parseManifests([{ file: 'x.yaml', text: 'a: 1\n--- b: 2\n' }])).message.split('\n')).toContain(
      'x.yaml:2:1 (document 2): invalid Yaml document separator: --- b: 2',
    );
  });

  it('unfolds a List into its items', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [service({ ports: [{ port: 80 }] }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cfg', namespace: 'shop' } }],
    };
    const result = load([list]);
    expect(result.manifests.services.map((s) => s.source)).toEqual([{ file: 'bad.yaml', doc: 1 }]);
    expect(result.notices).toEqual(['bad.yaml (document 1): skipping ServiceAccount "cfg": kind does not shape traffic']);
  });

  it('skips kinds that do not shape traffic, one notice each', () => {
    const result = load([
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } },
      { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'tls', namespace: 'shop' } },
    ]);
    expect(result.manifests.skipped).toEqual([
      { source: { file: 'bad.yaml', doc: 1 }, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: 'web', namespace: 'default' },
      { source: { file: 'bad.yaml', doc: 2 }, apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'reader', namespace: '' },
      { source: { file: 'bad.yaml', doc: 3 }, apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'tls', namespace: 'shop' },
    ]);
    expect(result.notices).toHaveLength(3);
  });

  it('rejects a known kind at an apiVersion aks-emu does not serve', () => {
    expect(fieldErrors([{ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'web' } }])).toEqual([
      'apiVersion: Invalid value: "apps/v1beta1": no matches for kind "Deployment" in version "apps/v1beta1"',
    ]);
  });

  it('keeps namespaces and reads Namespace objects as cluster-scoped', () => {
    const { manifests } = load([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'ignored' } },
      service({ ports: [{ port: 80 }] }, { namespace: 'shop' }),
    ]);
    expect(manifests.namespaces.map((n) => [n.kind, n.metadata.name, n.metadata.namespace])).toEqual([['Namespace', 'shop', '']]);
    expect(manifests.services[0]?.metadata.namespace).toBe('shop');
  });

  it('accepts the same name for different kinds and namespaces', () => {
    const { manifests } = load([
      service({ ports: [{ port: 80 }] }),
      service({ ports: [{ port: 80 }] }, { namespace: 'shop' }),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c' }] } },
    ]);
    expect(manifests.services).toHaveLength(2);
    expect(manifests.workloads).toHaveLength(1);
  });
});

describe('metadata', () => {
  it('checks namespace, labels and annotation keys', () => {
    expect(fieldErrors([service({ ports: [{ port: 80 }] }, { namespace: 'Shop', labels: { 'a/b/c': 'x' }, annotations: { '-bad': 'x' } })])).toEqual([
      `metadata.namespace: Invalid value: "Shop": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      `metadata.labels: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      `metadata.annotations: Invalid value: "-bad": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
  });

  it('requires annotation and label values to be strings, as the API does', () => {
    expect(fieldErrors([service({ ports: [{ port: 80 }] }, { annotations: { 'example.com/enabled': true } })])).toEqual([
      'metadata.annotations[example.com/enabled]: Invalid value: true: must be a string',
    ]);
  });
});

describe('the library entry points', () => {
  it('accepts already-parsed objects', () => {
    const { manifests } = parseObjects([{ file: '<inline>', doc: 1, object: service({ ports: [{ port: 80 }] }) }]);
    expect(manifests.services[0]?.source).toEqual({ file: '<inline>', doc: 1 });
  });

  it('fails with AKS_EMU_MANIFEST_PARSE for objects without kind', () => {
    const err = thrown(() => parseObjects([{ file: '<inline>', doc: 2, object: { apiVersion: 'v1', metadata: { name: 'x' } } }]));
    expect(err.code).toBe('AKS_EMU_MANIFEST_PARSE');
    expect(err.message).toBe('<inline> (document 2): error validating data: [kind not set]');
  });

  it('refuses an allowedEndpointCIDRs entry that is not a CIDR', () => {
    const err = thrown(() => load([], { allowedEndpointCIDRs: ['127.0.0.1'] }));
    expect(err.code).toBe('AKS_EMU_CONFIG_INVALID');
  });

  it('returns empty manifests for empty input', () => {
    expect(parseManifests([{ file: 'empty.yaml', text: '' }]).manifests.services).toEqual([]);
  });
});
