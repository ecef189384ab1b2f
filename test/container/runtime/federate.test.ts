import { describe, expect, it } from 'vitest';

import { federate } from '../../../src/runtime/container/federate.js';
import { parseExposition } from '../../helpers/exposition.js';

const NODE = `# HELP a_total A.
# TYPE a_total counter
a_total{node="n1"} 3
# HELP d_seconds D.
# TYPE d_seconds histogram
d_seconds_bucket{le="1"} 1
d_seconds_bucket{le="+Inf"} 2
d_seconds_sum 1.5
d_seconds_count 2
`;
const LB = `# HELP a_total A.
# TYPE a_total counter
a_total{instance="x",job="y"} 4
`;

describe('federate: the roles’ expositions as one', () => {
  it('keeps each family together under one HELP and TYPE, labels every sample with its source, and renames clashing labels', () => {
    const lines: string[] = [];
    const text = federate(
      [
        { job: 'node', instance: 'n1', text: NODE },
        { job: 'lb', instance: 'lb', text: LB },
        { job: 'node', instance: 'n2', text: 'garbage line\n' },
        { job: 'node', instance: 'n3', text: undefined },
      ],
      (line) => lines.push(line),
    );
    const { types, samples } = parseExposition(text);
    expect(types.get('d_seconds')).toBe('histogram');
    expect(samples.filter((s) => s.name === 'a_total').map((s) => s.labels)).toEqual([
      { job: 'node', instance: 'n1', node: 'n1' },
      { job: 'lb', instance: 'lb', exported_instance: 'x', exported_job: 'y' },
    ]);
    expect(samples.find((s) => s.name === 'd_seconds_count')?.labels).toEqual({ job: 'node', instance: 'n1' });
    const up = Object.fromEntries(samples.filter((s) => s.name === 'aks_emu_federate_up').map((s) => [s.labels.instance, s.value]));
    expect(up).toEqual({ n1: 1, lb: 1, n2: 0, n3: 0 });
    expect(lines.join('\n')).toContain('n2');
  });
});
