import { describe, expect, it } from 'vitest';
import { AksEmuError, formatLocatedFieldError } from '../../../src/errors/index.js';
import { parseManifests, parseValidateFlag } from '../../../src/manifests/index.js';
import { deployment, load, thrownInvalid } from '../helpers.js';

/** A Service with the three misspellings users make most: a field, a selector, a port field. */
const misspelt = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    type: 'LoadBalancer',
    externalTraficPolicy: 'Local',
    selecter: { app: 'web' },
    ports: [{ port: 80, targetport: 8080 }],
  },
};

describe('strict field validation of manifests', () => {
  it('refuses every field the kind does not have, in kubectl strict decoding words, by default', () => {
    const err = thrownInvalid(() => load([misspelt]));
    expect(err.errors.map(formatLocatedFieldError)).toEqual([
      'bad.yaml (document 1): Service "web" in namespace "shop": strict decoding error: unknown field "spec.externalTraficPolicy"',
      'bad.yaml (document 1): Service "web" in namespace "shop": strict decoding error: unknown field "spec.selecter"',
      'bad.yaml (document 1): Service "web" in namespace "shop": strict decoding error: unknown field "spec.ports[0].targetport"',
    ]);
  });

  it('reports unknown fields together with the field errors of the same set', () => {
    const bad = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: { ports: [{ port: 99999 }] } };
    const err = thrownInvalid(() => load([misspelt, bad]));
    expect(err.errors.map((e) => `${e.name} ${e.type} ${e.field}`)).toEqual([
      'web UnknownField spec.externalTraficPolicy',
      'web UnknownField spec.selecter',
      'web UnknownField spec.ports[0].targetport',
      'api Invalid spec.ports[0].port',
    ]);
  });

  it('walks nested types: pod templates, probes, Ingress rules, map values', () => {
    const web = deployment({}, { readinessProbe: { httpGet: { path: '/', prot: 80 } } });
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: { rules: [{ http: { paths: [{ path: '/', pathtype: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    };
    const err = thrownInvalid(() => load([web, ingress]));
    expect(err.errors.filter((e) => e.type === 'UnknownField').map((e) => `${e.kind} ${e.field}`)).toEqual([
      'Deployment spec.template.spec.containers[0].readinessProbe.httpGet.prot',
      'Ingress spec.rules[0].http.paths[0].pathtype',
    ]);
  });

  it('accepts what kubectl accepts: status, annotations and labels of any key, int-or-string ports', () => {
    const ok = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { 'any/key': 'v' }, annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      status: { loadBalancer: {} },
    };
    expect(load([ok]).manifests.services.map((s) => s.metadata.name)).toEqual(['web']);
  });

  it('warns instead under Warn, and starts the object as if the field were absent', () => {
    const result = load([misspelt], { fieldValidation: 'Warn' });
    expect(result.notices).toEqual([
      'warning: bad.yaml (document 1): Service "web": unknown field "spec.externalTraficPolicy"',
      'warning: bad.yaml (document 1): Service "web": unknown field "spec.selecter"',
      'warning: bad.yaml (document 1): Service "web": unknown field "spec.ports[0].targetport"',
    ]);
    const [svc] = result.manifests.services;
    expect(svc!.spec.externalTrafficPolicy).toBe('Cluster');
    expect(svc!.spec.selector).toBeUndefined();
  });

  it('says nothing under Ignore', () => {
    expect(load([misspelt], { fieldValidation: 'Ignore' }).notices).toEqual([]);
  });

  it('names the file and document of YAML input', () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndatta: {k: v}\n';
    const err = thrownInvalid(() => parseManifests([{ file: 'cm.yaml', text }]));
    expect(err.message).toBe('cm.yaml (document 2): ConfigMap "b": strict decoding error: unknown field "datta"');
    expect(err).toBeInstanceOf(AksEmuError);
    expect(err.code).toBe('AKS_EMU_MANIFEST_INVALID');
  });
});

describe('duplicate fields', () => {
  it("are refused in go-yaml's words as kubectl prints them, with the file's lines", () => {
    const text = 'a: 1\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]\n  selector: {app: b}\n';
    let message = '';
    try {
      parseManifests([{ file: 'dup.yaml', text }]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toContain(
      'dup.yaml:9:3 (document 2): error converting YAML to JSON: yaml: unmarshal errors: line 9: mapping key "selector" already defined at line 7',
    );
  });
});

describe('parseValidateFlag', () => {
  it("takes kubectl's --validate values", () => {
    expect(['strict', 'true', 'warn', 'ignore', 'false', 'Strict', 'no'].map(parseValidateFlag)).toEqual([
      'Strict',
      'Strict',
      'Warn',
      'Ignore',
      'Ignore',
      'Strict',
      undefined,
    ]);
  });
});
