import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { Exposition } from '../../../src/dataplane/observe/exposition.js';
import { Histogram } from '../../../src/dataplane/observe/histogram.js';
import { Ring } from '../../../src/dataplane/observe/ring.js';
import { parseExposition } from '../../helpers/exposition.js';

describe('the text exposition writer', () => {
  it('escapes label values and help text as the format requires, and a parser reads them back', () => {
    const out = new Exposition();
    out.counter('x_total', 'a help with a \\ backslash\nand a line feed').set({ path: 'C:\\DIR\\"FILE"\nnext' }, 3);
    const text = out.text();
    expect(text).toBe(
      '# HELP x_total a help with a \\\\ backslash\\nand a line feed\n# TYPE x_total counter\nx_total{path="C:\\\\DIR\\\\\\"FILE\\"\\nnext"} 3\n',
    );
    const [family] = parsePrometheusTextFormat(text);
    expect(family!.metrics[0]!.labels).toEqual({ path: 'C:\\DIR\\"FILE"\nnext' });
    expect(parseExposition(text).samples[0]!.labels.path).toBe('C:\\DIR\\"FILE"\nnext');
  });

  it('groups a family whose samples were added apart, and leaves empty labels out', () => {
    const out = new Exposition();
    out.counter('a_total', 'a').set({ k: '1' }, 1);
    out.gauge('b', 'b').set({}, 2);
    out.counter('a_total', 'a').set({ k: '2', empty: '', none: undefined }, 3);
    expect(out.text()).toBe('# HELP a_total a\n# TYPE a_total counter\na_total{k="1"} 1\na_total{k="2"} 3\n# HELP b b\n# TYPE b gauge\nb 2\n');
    expect(() => out.gauge('a_total', 'a')).toThrow(/is a counter/);
    expect(() => out.counter('bad-name', 'x')).toThrow(/invalid metric name/);
    expect(() => out.counter('c_total', 'x').set({ 'bad-label': 'v' }, 1)).toThrow(/invalid label name/);
  });

  it('writes histograms as cumulative buckets ending in +Inf, with sum and count', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 2, 3]) h.observe(v);
    const text = new Exposition().histogram('d_seconds', 'd').observe({ rule: 'r' }, h).text();
    expect(text).toBe(
      [
        '# HELP d_seconds d',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{rule="r",le="0.1"} 2',
        'd_seconds_bucket{rule="r",le="1"} 3',
        'd_seconds_bucket{rule="r",le="+Inf"} 5',
        'd_seconds_sum{rule="r"} 5.65',
        'd_seconds_count{rule="r"} 5',
        '',
      ].join('\n'),
    );
    const [family] = parsePrometheusTextFormat(text);
    // This parser keeps the buckets of a labelled histogram (not its labels, sum and count); the strict reader checks those.
    expect(family!.metrics[0]).toMatchObject({ buckets: { '0.1': '2', '1': '3', '+Inf': '5' } });
    expect(() => parseExposition(text)).not.toThrow();
  });

  it('the strict reader refuses what the format forbids', () => {
    expect(() => parseExposition('a 1\n# TYPE a counter\n')).toThrow(/TYPE for a after its samples/);
    expect(() => parseExposition('# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2\n')).toThrow(/continues after another family/);
    expect(() => parseExposition('# TYPE a counter\na{x="1} 1\n')).toThrow(/malformed labels/);
    expect(() => parseExposition('# TYPE a counter\na -1\n')).toThrow(/counter a is -1/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/not cumulative/);
    expect(() => parseExposition('a 1')).toThrow(/line feed/);
  });
});

describe('the trace ring', () => {
  it('keeps the latest records in order and drops the oldest once full', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.items()).toEqual([3, 4, 5]);
    const seen: number[] = [];
    const stop = ring.follow((n) => seen.push(n));
    ring.announce(6);
    stop();
    ring.announce(7);
    expect(seen).toEqual([6]);
    expect(new Ring<number>(0).items()).toEqual([]);
  });
});
