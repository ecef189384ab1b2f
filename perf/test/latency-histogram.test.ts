import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../latency-histogram.js';

describe('the latency histogram', () => {
  it('keeps microsecond resolution below 65 ms', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) h.record(i * 0.011);
    const s = h.summary();
    expect(s.count).toBe(100);
    expect(s.p50Ms).toBeCloseTo(0.55, 6);
    expect(s.p99Ms).toBeCloseTo(1.089, 6);
    expect(s.maxMs).toBeCloseTo(1.1, 6);
  });

  it('puts slow requests in millisecond buckets and keeps the exact maximum', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 98; i++) h.record(1);
    h.record(120.4);
    h.record(250.7);
    expect(h.percentile(0.99)).toBe(120);
    expect(h.summary().maxMs).toBe(250.7);
  });

  it('reports zeros before anything is recorded', () => {
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});
