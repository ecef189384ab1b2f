import { describe, expect, it } from 'vitest';
import { generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';
import { validateIngresses } from '../../../src/cluster/ingress/validate.js';
import { formatFieldError } from '../../../src/errors/index.js';
import type { Ingress, Manifests, Secret } from '../../../src/model/types.js';
import { ingress, path, rule, tlsSecret } from '../../fixtures/ingress/factory.js';

function manifests(ingresses: Ingress[], secrets: Secret[] = []): Manifests {
  return { services: [], workloads: [], endpointSlices: [], secrets, namespaces: [], ingresses, ingressClasses: [], skipped: [] };
}

function messages(ingresses: Ingress[], secrets: Secret[] = []): string[] {
  return validateIngresses(manifests(ingresses, secrets)).map((e) => `${e.name}: ${formatFieldError(e)}`);
}

describe('validateIngresses', () => {
  it('rejects regex characters in Exact and Prefix paths, as strict-validate-path-type does', () => {
    expect(
      messages([
        ingress('store', [
          rule(
            undefined,
            path('/store-front(/|$)(.*)', 'web', 80, 'Prefix'),
            path('/v1.0/api', 'api', 80, 'Exact'),
            path('/x(.*)', 'x', 80, 'ImplementationSpecific'),
          ),
        ]),
      ]),
    ).toEqual([
      'store: spec.rules[0].http.paths[0].path: Invalid value: "/store-front(/|$)(.*)": cannot be used with pathType Prefix; use pathType ImplementationSpecific for regular expressions',
    ]);
  });

  it('can leave path characters alone when strict validation is off', () => {
    const m = manifests([ingress('store', [rule(undefined, path('/a(.*)', 'web'))])]);
    expect(validateIngresses(m, { strictValidatePathType: false })).toEqual([]);
  });

  it('rejects a path that must be a regex on its host but does not compile', () => {
    const errs = messages([
      ingress('plain', [rule('h.example', path('/files[', 'files', 80, 'ImplementationSpecific'))]),
      ingress('regex', [rule('h.example', path('/app', 'app'))], { annotations: { 'use-regex': 'true' } }),
    ]);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain('plain: spec.rules[0].http.paths[0].path: Invalid value: "/files["');
    expect(errs[0]).toContain('because of Ingress default/regex');
  });

  it('rejects a TLS Secret whose key does not belong to its certificate, but not a missing Secret', async () => {
    const [a, b] = await Promise.all([
      generateSelfSignedCertificate({ commonName: 'a.example', dnsNames: ['a.example'], keyType: 'ec' }),
      generateSelfSignedCertificate({ commonName: 'b.example', dnsNames: ['b.example'], keyType: 'ec' }),
    ]);
    const errs = messages(
      [
        ingress('tls', [rule('a.example', path('/', 'web'))], {
          tls: [
            { hosts: ['a.example'], secretName: 'mixed' },
            { hosts: ['c.example'], secretName: 'absent' },
          ],
        }),
      ],
      [tlsSecret('mixed', { certPem: a.certPem, keyPem: b.keyPem })],
    );
    expect(errs).toEqual(['tls: spec.tls[0].secretName: Invalid value: "mixed": Secret default/mixed: tls.key is not the private key of tls.crt']);
  });

  it('rejects a second canary for the same host and path, and a canary without a main Ingress', () => {
    const canary = { canary: 'true', 'canary-weight': '10' };
    const errs = messages([
      ingress('main', [rule('c.example', path('/', 'v1'))]),
      ingress('canary-a', [rule('c.example', path('/', 'v2'))], { annotations: canary }),
      ingress('canary-b', [rule('c.example', path('/', 'v3'))], { annotations: canary }),
      ingress('orphan', [rule('c.example', path('/lonely', 'v4'))], { annotations: canary }),
    ]);
    expect(errs).toEqual([
      'canary-b: spec.rules[0].http.paths[0].path: Invalid value: "/": host "c.example" and path "/" is already defined in ingress default/canary-a',
      'orphan: spec.rules[0].http.paths[0].path: Invalid value: "/lonely": canary Ingress without a main Ingress for host "c.example" and this path (Prefix); ingress-nginx would ignore it',
    ]);
  });

  it('checks only the Ingresses the built-in controller serves', () => {
    expect(messages([ingress('other', [rule(undefined, path('/a(.*)', 'web'))], { className: 'traefik' })])).toEqual([]);
  });
});

describe('validateIngresses and catastrophic backtracking', () => {
  it('accepts /(a+)+$ (matched in linear time) and rejects a lookaround pattern that could backtrack, naming the Ingress and field', () => {
    const errs = messages([
      ingress('redos', [rule('r.example', path('/(a+)+$', 'web', 80, 'ImplementationSpecific'), path('/(?=x)(x+)+y', 'web', 80, 'ImplementationSpecific'))], {
        annotations: { 'use-regex': 'true' },
      }),
    ]);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(
      /^redos: spec\.rules\[0\]\.http\.paths\[1\]\.path: Invalid value: "\/\(\?=x\)\(x\+\)\+y": is rejected: the regular expression may take exponential time/,
    );
  });
});
