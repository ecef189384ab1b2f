/**
 * The object store validates every write with the whole set, of which one object changed:
 * reads of frozen objects are kept (ParsedObjects) and taken again for the same object at
 * the same file and document. Whatever the sequence of sets, a build that reuses them must
 * give what a build from scratch gives: the same manifests, the same notices, the same
 * errors in the same order.
 */
import { describe, expect, it } from 'vitest';
import { ManifestInvalidError } from '../../src/errors/index.js';
import { ParsedObjects, parseObjects, type LoadResult, type ManifestOptions, type RawObject } from '../../src/manifests/index.js';

type Obj = Record<string, unknown>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const service = (name: string, extra: Obj = {}): Obj =>
  deepFreeze({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...extra },
  });

const deployment = (name: string, replicas = 3): Obj =>
  deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'echo', image: 'echo', ports: [{ containerPort: 8080 }] }] } },
    },
  });

const endpoints = (name: string, ip: string): Obj =>
  deepFreeze({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' }, subsets: [{ addresses: [{ ip }], ports: [{ port: 80 }] }] });

const raw = (objects: readonly Obj[]): RawObject[] => objects.map((object, i) => ({ file: '<api>', doc: i + 1, object }));

type Outcome = { readonly ok: LoadResult } | { readonly errors: string[] };

function build(objects: readonly Obj[], options: ManifestOptions): Outcome {
  try {
    return { ok: parseObjects(raw(objects), options) };
  } catch (err) {
    if (!(err instanceof ManifestInvalidError)) throw err;
    // The message names every error as a user sees it (file, document, object, field).
    return { errors: [err.message, ...err.errors.map((e) => JSON.stringify(e))] };
  }
}

describe('building manifests with reads kept from earlier builds', () => {
  it('gives what a build from scratch gives, over a sequence of sets', () => {
    const web = service('web');
    const api = service('api');
    const webApp = deployment('web');
    const apiApp = deployment('api');
    const ext = endpoints('ext', '127.0.0.9');
    const steps: { what: string; objects: Obj[]; options?: ManifestOptions }[] = [
      { what: 'start', objects: [web, webApp, api, apiApp, ext] },
      { what: 'the same set again', objects: [web, webApp, api, apiApp, ext] },
      { what: 'a Service added at the end', objects: [web, webApp, api, apiApp, ext, service('shop')] },
      { what: 'a Deployment changed in place', objects: [web, deployment('web', 5), api, apiApp, ext] },
      { what: 'an object deleted (documents after it move)', objects: [webApp, api, apiApp, ext] },
      { what: 'a duplicate of a kept object', objects: [web, webApp, api, apiApp, ext, service('web', { type: 'ClusterIP' })] },
      { what: 'an invalid object beside kept ones', objects: [web, webApp, api, apiApp, ext, service('bad', { ports: [{ port: 0 }] })] },
      { what: 'other endpoint ranges', objects: [web, webApp, api, apiApp, ext], options: { allowedEndpointCIDRs: ['10.0.0.0/8'] } },
      { what: 'back to the first set', objects: [web, webApp, api, apiApp, ext] },
      { what: 'not frozen: read afresh', objects: [{ ...web }, webApp, api, apiApp, ext] },
    ];
    const reuse = new ParsedObjects();
    let last: LoadResult | undefined;
    for (const step of steps) {
      const options: ManifestOptions = { fieldValidation: 'Ignore', ...step.options };
      const kept = build(step.objects, { ...options, reuse });
      const fresh = build(step.objects, options);
      expect(kept, step.what).toEqual(fresh);
      if ('ok' in kept) {
        // An object at the same document as last time is the read kept from then.
        if (step.what === 'the same set again' || step.what === 'a Service added at the end') {
          expect(kept.ok.manifests.services[0], step.what).toBe(last!.manifests.services[0]);
          expect(kept.ok.manifests.workloads[1], step.what).toBe(last!.manifests.workloads[1]);
          expect(kept.ok.manifests.endpointSlices[0], step.what).toBe(last!.manifests.endpointSlices[0]);
        }
        if (step.what === 'a Deployment changed in place') expect(kept.ok.manifests.workloads[0]?.replicas).toBe(5);
        last = kept.ok;
      }
    }
    // The steps did reach the errors they were meant to reach.
    expect(build(steps[5]!.objects, { fieldValidation: 'Ignore', reuse })).toHaveProperty('errors');
    expect(build(steps[7]!.objects, { fieldValidation: 'Ignore', allowedEndpointCIDRs: ['10.0.0.0/8'], reuse })).toHaveProperty('errors');
  });

  it('carries a read over to an object that differs only in its status, and to no other', () => {
    const options: ManifestOptions = { fieldValidation: 'Ignore' };
    const app = deployment('web');
    const api = service('api');
    // As the store keeps a controller's status write: the other fields by reference, metadata copied with a new resourceVersion.
    const restatus = (o: Obj, status: Obj): Obj => deepFreeze({ ...o, metadata: { ...(o['metadata'] as Obj), resourceVersion: '7' }, status });
    const respec = (o: Obj, spec: Obj): Obj => deepFreeze({ ...o, metadata: { ...(o['metadata'] as Obj), resourceVersion: '8' }, spec });
    const relabel = (o: Obj): Obj => deepFreeze({ ...o, metadata: { ...(o['metadata'] as Obj), labels: { tier: 'web' } } });
    const reuse = new ParsedObjects();
    const first = build([app, api], { ...options, reuse });
    const cases: { what: string; next: Obj; carried: boolean }[] = [
      { what: 'a new status', next: restatus(app, { replicas: 3, readyReplicas: 3 }), carried: true },
      { what: 'a new spec', next: respec(app, { ...(app['spec'] as Obj), replicas: 5 }), carried: false },
      { what: 'new labels', next: relabel(app), carried: false },
      { what: 'a new field', next: deepFreeze({ ...app, extra: 1 }), carried: false },
    ];
    for (const { what, next, carried } of cases) {
      reuse.carry(app, next);
      const kept = build([next, api], { ...options, reuse });
      expect(kept, what).toEqual(build([next, api], options));
      if ('ok' in kept && 'ok' in first) {
        if (carried) expect(kept.ok.manifests.workloads[0], what).toBe(first.ok.manifests.workloads[0]);
        else expect(kept.ok.manifests.workloads[0], what).not.toBe(first.ok.manifests.workloads[0]);
      }
    }
    // Reads with other options are not carried: with Strict, a status may hold what the schema refuses.
    const strict = new ParsedObjects();
    build([app, api], { fieldValidation: 'Strict', reuse: strict });
    const next = restatus(app, { replicas: 3, bogus: 1 });
    strict.carry(app, next);
    const again = build([next, api], { fieldValidation: 'Strict', reuse: strict });
    expect(again).toEqual(build([next, api], { fieldValidation: 'Strict' }));
  });
});
