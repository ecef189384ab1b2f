import { describe, expect, it } from 'vitest';
import { ApiStatusError } from '../../src/errors/index.js';
import { formatDuration, parseDuration } from '../../src/faults/duration.js';
import { validateFault, type TargetCatalog } from '../../src/faults/validate.js';

const catalog: TargetCatalog = {
  nodes: new Set(['node-0', 'node-1']),
  pods: new Set(['shop/web-0']),
  services: new Map([
    [
      'shop/web',
      {
        ports: [
          { name: 'http', port: 80, nodePort: 30080 },
          { name: 'metrics', port: 9090 },
        ],
        frontend: true,
      },
    ],
    ['shop/internal', { ports: [{ name: '', port: 80 }], frontend: false }],
  ]),
  ingresses: new Map([['shop/web', ['/', '/api']]]),
  httpRoutes: new Map([['shop/route', ['/']]]),
};

/** The fields a refused fault names. */
function fieldsOf(body: unknown): string[] {
  try {
    validateFault(body, catalog);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiStatusError);
    const e = err as ApiStatusError;
    expect(e.status).toBe(422);
    return (e.details?.causes ?? []).map((c) => c.field ?? '');
  }
  throw new Error('expected the fault to be refused');
}

describe('fault validation', () => {
  it('reads the contract example and fills in defaults', () => {
    const fault = validateFault({ type: 'reset', target: 'service/shop/web', params: { fraction: 1 }, for: '30s' }, catalog);
    expect(fault).toEqual({
      spec: { type: 'reset', fraction: 1 },
      target: { kind: 'service', namespace: 'shop', name: 'web' },
      params: { fraction: 1 },
      forMs: 30_000,
    });
  });

  it('spells durations back and takes Toxiproxy names', () => {
    const fault = validateFault(
      { type: 'latency', target: 'frontend/shop/web', params: { delay: '200ms', jitter: 20, toxicity: '0.5', port: 'http' } },
      catalog,
    );
    expect(fault.spec).toEqual({ type: 'latency', delayMs: 200, jitterMs: 20, direction: 'downstream', fraction: 0.5, port: 'http' });
    expect(fault.params).toEqual({ delay: '200ms', jitter: '20ms', direction: 'downstream', fraction: 0.5, port: 'http' });
  });

  it('takes a node as node/NAME and a namespaced target without namespace as default', () => {
    expect(validateFault({ type: 'drain', target: 'node/node-1' }, catalog).target).toEqual({ kind: 'node', namespace: '', name: 'node-1' });
    expect(fieldsOf({ type: 'unready', target: 'pod/web-0' })).toEqual(['target']);
  });

  it('takes the short names kubectl uses for kinds and shows the full one', () => {
    expect(validateFault({ type: 'reset', target: 'svc/shop/web' }, catalog).target).toEqual({ kind: 'service', namespace: 'shop', name: 'web' });
    expect(validateFault({ type: 'hang', target: 'po/shop/web-0' }, catalog).target.kind).toBe('pod');
  });

  it('counts first-K status faults without a fraction, and refuses both together', () => {
    expect(validateFault({ type: 'status', target: 'ingress/shop/web', params: { code: 503, first: 2 } }, catalog).spec).toEqual({
      type: 'status',
      code: 503,
      fraction: 1,
      first: 2,
    });
    expect(fieldsOf({ type: 'status', target: 'ingress/shop/web', params: { code: 503, first: 2, fraction: 0.5 } })).toEqual(['params.first']);
  });

  it('narrows a rule fault to one rule by its path', () => {
    expect(validateFault({ type: 'abort', target: 'ingress/shop/web', params: { path: '/api' } }, catalog).spec).toEqual({
      type: 'abort',
      fraction: 1,
      path: '/api',
    });
    expect(fieldsOf({ type: 'abort', target: 'ingress/shop/web', params: { path: '/admin' } })).toEqual(['params.path']);
    expect(fieldsOf({ type: 'abort', target: 'httproute/shop/route', params: { path: 'api' } })).toEqual(['params.path']);
  });

  it('names each bad field, all at once', () => {
    expect(fieldsOf({ type: 'latency', target: 'service/shop/web', params: { jitter: 'x', fraction: -1 }, for: '0s' })).toEqual([
      'for',
      'params.delay',
      'params.jitter',
      'params.fraction',
    ]);
  });

  it('refuses unknown targets, kinds, types, params and fields', () => {
    expect(fieldsOf({ type: 'reset', target: 'service/shop/nope' })).toEqual(['target']);
    expect(fieldsOf({ type: 'reset', target: 'deployment/shop/web' })).toEqual(['target']);
    expect(fieldsOf({ type: 'explode', target: 'service/shop/web' })).toEqual(['type']);
    expect(fieldsOf({ type: 'stop', target: 'service/shop/web' })).toEqual(['type']);
    expect(fieldsOf({ type: 'reset', target: 'service/shop/web', params: { speed: 1 } })).toEqual(['params.speed']);
    expect(fieldsOf({ type: 'reset', target: 'service/shop/web', colour: 'red' })).toEqual(['colour']);
    expect(fieldsOf({ type: 'reset' })).toEqual(['target']);
    expect(fieldsOf({ target: 'node/node-0' })).toEqual(['type']);
  });

  it('checks the hop exists: a frontend needs an LB IP, a nodeport a NodePort, a port must be the Service’s', () => {
    expect(fieldsOf({ type: 'reset', target: 'frontend/shop/internal' })).toEqual(['target']);
    expect(fieldsOf({ type: 'reset', target: 'nodeport/shop/internal' })).toEqual(['target']);
    expect(fieldsOf({ type: 'reset', target: 'service/shop/web', params: { port: 81 } })).toEqual(['params.port']);
    expect(validateFault({ type: 'reset', target: 'service/shop/web', params: { port: '9090' } }, catalog).spec).toMatchObject({ port: 9090 });
  });

  it('keeps values in range', () => {
    expect(fieldsOf({ type: 'status', target: 'ingress/shop/web', params: { code: 700 } })).toEqual(['params.code']);
    expect(fieldsOf({ type: 'snat-exhaustion', target: 'service/shop/web', params: { ports: 1.5 } })).toEqual(['params.ports']);
    expect(fieldsOf({ type: 'bandwidth', target: 'service/shop/web', params: { rate: 0 } })).toEqual(['params.rate']);
    expect(fieldsOf({ type: 'latency', target: 'service/shop/web', params: { delay: '1h' } })).toEqual(['params.delay']);
    expect(fieldsOf({ type: 'latency', target: 'service/shop/web', params: { delay: '1s', direction: 'sideways' } })).toEqual(['params.direction']);
    expect(fieldsOf({ type: 'reset', target: 'service/shop/web', for: '25h' })).toEqual(['for']);
  });

  it('refuses a body that is not an object with a 400', () => {
    expect(() => validateFault([], catalog)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('durations', () => {
  it('reads Go durations and bare milliseconds', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250us')).toBe(0.25);
    expect(parseDuration(40)).toBe(40);
    expect(parseDuration('40')).toBe(40);
    expect(parseDuration('1x')).toBeUndefined();
    expect(parseDuration('s')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });

  it('spells the shortest exact form', () => {
    expect([0, 250, 1500, 2000, 120_000, 3_600_000].map(formatDuration)).toEqual(['0s', '250ms', '1.5s', '2s', '2m', '1h']);
  });
});
