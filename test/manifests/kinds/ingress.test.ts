import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const ingress = (spec: object, annotations: object = {}) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', annotations },
  spec,
});
const backend = { service: { name: 'web', port: { number: 80 } } };
const rules = (...paths: object[]) => [{ http: { paths } }];

describe('Ingress', () => {
  it('normalises rules, TLS and the default backend', () => {
    const [ing] = load([
      ingress({
        ingressClassName: 'nginx',
        defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } },
        tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
        rules: [
          { host: 'shop.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend }] } },
          { http: { paths: [{ pathType: 'ImplementationSpecific', backend }] } },
        ],
      }),
    ]).manifests.ingresses;
    expect(ing?.spec).toEqual({
      ingressClassName: 'nginx',
      defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } },
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        { host: 'shop.example.com', paths: [{ path: '/api', pathType: 'Prefix', backend }] },
        { paths: [{ path: '/', pathType: 'ImplementationSpecific', backend }] },
      ],
    });
  });

  it('takes the class from the legacy annotation when spec.ingressClassName is unset', () => {
    const [ing] = load([ingress({ rules: rules({ path: '/', pathType: 'Prefix', backend }) }, { 'kubernetes.io/ingress.class': 'nginx' })]).manifests.ingresses;
    expect(ing?.spec.ingressClassName).toBe('nginx');
    expect(
      fieldErrors([ingress({ ingressClassName: 'a', rules: rules({ path: '/', pathType: 'Prefix', backend }) }, { 'kubernetes.io/ingress.class': 'b' })]),
    ).toEqual(['annotations.kubernetes.io/ingress.class: Invalid value: "b": must match `ingressClassName` when both are specified']);
  });

  it('checks path types and paths', () => {
    expect(
      fieldErrors([
        ingress({
          rules: rules(
            { path: '/a', pathType: 'Regex', backend },
            { path: 'api', pathType: 'Exact', backend },
            { path: '/a//b', pathType: 'Prefix', backend },
            { path: '/a', backend },
            { path: 'rel', pathType: 'ImplementationSpecific', backend },
          ),
        }),
      ]),
    ).toEqual([
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
      'spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
      'spec.rules[0].http.paths[2].path: Invalid value: "/a//b": must not contain \'//\'',
      'spec.rules[0].http.paths[3].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[4].path: Invalid value: "rel": must be an absolute path',
    ]);
  });

  it('checks backends', () => {
    expect(
      fieldErrors([
        ingress({
          rules: rules(
            { path: '/a', pathType: 'Prefix', backend: {} },
            { path: '/b', pathType: 'Prefix', backend: { service: { name: 'web' } } },
            { path: '/c', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80, name: 'http' } } } },
            { path: '/d', pathType: 'Prefix', backend: { ...backend, resource: { kind: 'Bucket', name: 'b' } } },
            { path: '/e', pathType: 'Prefix', backend: { service: { port: { number: 70000 } } } },
          ),
        }),
      ]),
    ).toEqual([
      'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required',
      'spec.rules[0].http.paths[1].backend: Required value: port name or number is required',
      'spec.rules[0].http.paths[2].backend: Invalid value: "": cannot set both port name & port number',
      'spec.rules[0].http.paths[3].backend: Invalid value: "": cannot set both resource and service backends',
      'spec.rules[0].http.paths[4].backend.service.name: Required value',
      'spec.rules[0].http.paths[4].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
  });

  it('needs rules or a default backend, DNS hosts, and paths under http', () => {
    expect(fieldErrors([ingress({})])).toEqual(['spec: Invalid value: null: either `defaultBackend` or `rules` must be specified']);
    expect(fieldErrors([ingress({ rules: [{ host: '10.0.0.1', http: { paths: [] } }, { host: '*.*.shop.io' }] })])).toEqual([
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths: Required value',
      `spec.rules[1].host: Invalid value: "*.*.shop.io": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
  });
});

describe('IngressClass', () => {
  it('reads the controller and the default-class annotation', () => {
    const cls = (name: string, isDefault?: string) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name, ...(isDefault !== undefined && { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } }) },
      spec: { controller: 'k8s.io/ingress-nginx' },
    });
    const { ingressClasses } = load([cls('nginx', 'true'), cls('other', 'True'), cls('third')]).manifests;
    expect(ingressClasses.map((c) => [c.metadata.name, c.metadata.namespace, c.isDefault, c.spec.controller])).toEqual([
      ['nginx', '', true, 'k8s.io/ingress-nginx'],
      ['other', '', false, 'k8s.io/ingress-nginx'],
      ['third', '', false, 'k8s.io/ingress-nginx'],
    ]);
    expect(fieldErrors([{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'x' }, spec: {} }])).toEqual([
      'spec.controller: Required value',
    ]);
  });
});
