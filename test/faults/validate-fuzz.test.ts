/**
 * Whatever a client posts, fault validation answers with a fault or a 4xx Status naming
 * fields; it never throws anything else (which the admin API would turn into a 500).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiStatusError } from '../../src/errors/index.js';
import { FAULT_TYPES } from '../../src/faults/types.js';
import { validateFault, type TargetCatalog } from '../../src/faults/validate.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

const catalog: TargetCatalog = {
  nodes: new Set(['node-0']),
  pods: new Set(['default/web-0']),
  services: new Map([['default/web', { ports: [{ name: 'http', port: 80, nodePort: 30080 }], frontend: true }]]),
  ingresses: new Map([['default/web', ['/']]]),
  httpRoutes: new Map([['default/web', ['/']]]),
};

const value = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, 2, 1e308, Number.NaN, '', '1s', '200ms', 'x', '1e3', 'both', 'upstream', true, null, 'http', 80),
  fc.string({ maxLength: 20 }),
  fc.double(),
  fc.integer(),
);
const params = fc.dictionary(
  fc.constantFrom(
    'delay',
    'jitter',
    'fraction',
    'toxicity',
    'port',
    'rate',
    'bytes',
    'timeout',
    'tcpReset',
    'ports',
    'code',
    'first',
    'restartAfter',
    'window',
    'direction',
    'path',
    'x',
  ),
  value,
);
const body = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constantFrom(...FAULT_TYPES), fc.string({ maxLength: 10 })),
      target: fc.oneof(
        fc.constantFrom(
          'service/default/web',
          'frontend/default/web',
          'nodeport/default/web',
          'node/node-0',
          'pod/default/web-0',
          'ingress/default/web',
          'httproute/default/web',
          'node/a/b',
          'service//web',
          '/',
        ),
        fc.string({ maxLength: 30 }),
        value,
      ),
      params: fc.oneof(params, value),
      for: value,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

describe('fault validation under random input', () => {
  it('returns a fault or throws a 4xx Status whose causes name fields', () => {
    fc.assert(
      fc.property(body, (input) => {
        try {
          const fault = validateFault(input, catalog);
          expect(FAULT_TYPES).toContain(fault.spec.type);
        } catch (err) {
          expect(err).toBeInstanceOf(ApiStatusError);
          const e = err as ApiStatusError;
          expect([400, 422]).toContain(e.status);
          if (e.status === 422) expect(e.details?.causes?.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
