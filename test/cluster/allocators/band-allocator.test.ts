import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BandAllocator } from '../../../src/cluster/allocators/band-allocator.js';

/** The allocator as Kubernetes describes it: a random start, then every value upwards with wrap-around, dynamic band first. */
function referenceNext(used: Set<number>, first: number, last: number, staticSize: number, random: () => number): number | undefined {
  const scan = (from: number, to: number) => {
    const size = to - from + 1;
    if (size <= 0) return undefined;
    const start = Math.min(size - 1, Math.floor(random() * size));
    for (let i = 0; i < size; i++) {
      const value = from + ((start + i) % size);
      if (!used.has(value)) return value;
    }
    return undefined;
  };
  const value = scan(first + staticSize, last) ?? scan(first, first + staticSize - 1);
  if (value !== undefined) used.add(value);
  return value;
}

describe('BandAllocator', () => {
  it('hands out exactly the values of a plain random scan, whatever was claimed before', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 45 })),
        fc.array(fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 45 }))),
        (size, staticSize, claims, steps) => {
          const first = 100;
          const last = first + size - 1;
          const band = Math.min(staticSize, size);
          const allocator = new BandAllocator(first, last, band);
          const used = new Set<number>();
          for (const c of claims) if (allocator.claim(first + c, 'x').ok) used.add(first + c);
          // A step is either a random draw for next() or a claim between draws.
          for (const step of steps) {
            if (Number.isInteger(step) && step >= 1) {
              const ok = allocator.claim(first + step, 'y').ok;
              expect(ok).toBe(first + step <= last && !used.has(first + step));
              if (ok) used.add(first + step);
              continue;
            }
            const draw = step as number;
            expect(allocator.next('n', () => draw)).toBe(referenceNext(used, first, last, band, () => draw));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers undefined for every further request once the range is full', () => {
    const allocator = new BandAllocator(1, 1000, 16);
    const values = new Set<number>();
    for (let i = 0; i < 1000; i++) values.add(allocator.next(`s${i}`, () => 0.5)!);
    expect(values.size).toBe(1000);
    for (let i = 0; i < 5000; i++) expect(allocator.next('late', Math.random)).toBeUndefined();
    expect(allocator.ownerOf(1)).toBeDefined();
  });
});
