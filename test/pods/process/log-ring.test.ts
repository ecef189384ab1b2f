import { describe, expect, it } from 'vitest';
import { LogRing } from '../../../src/pods/process/log-ring.js';
import { CrashBackoff } from '../../../src/pods/process/backoff.js';

describe('a container log ring', () => {
  it('keeps whole lines, the newest within its bound, and the previous instance apart', () => {
    const ring = new LogRing(100);
    ring.newInstance();
    ring.write('stdout', 'first\nsec');
    ring.write('stdout', 'ond\n');
    expect(ring.current()).toBe('first\nsecond\n');
    for (let i = 0; i < 50; i++) ring.write('stderr', `line ${i}\n`);
    expect(ring.current().length).toBeLessThanOrEqual(100);
    expect(ring.current().endsWith('line 49\n')).toBe(true);
    ring.write('stdout', 'unfinished');
    ring.endInstance();
    ring.newInstance();
    expect(ring.previous()?.endsWith('unfinished\n')).toBe(true);
    expect(ring.current()).toBe('');
  });

  it('takes whole lines by writeLine, after what a partial write left pending, and emits each', () => {
    const ring = new LogRing(1024);
    const seen: string[] = [];
    ring.on('line', (l) => seen.push(l));
    ring.writeLine('first');
    ring.write('stdout', 'half');
    ring.writeLine(' done');
    ring.writeLine('two\nlines');
    expect(ring.current()).toBe('first\nhalf done\ntwo\nlines\n');
    expect(seen).toEqual(['first', 'half done', 'two', 'lines']);
  });

  it('cuts a line that never ends', () => {
    const ring = new LogRing(1024 * 1024);
    ring.write('stdout', 'x'.repeat(40_000));
    expect(
      ring
        .current()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.length),
    ).toEqual([16_384, 16_384]);
  });
});

describe("kubelet's crash back-off", () => {
  it('restarts at once, then after 10 s doubling to 5 min, and starts over after 10 min of running', () => {
    const b = new CrashBackoff(1);
    expect([0, 0, 0, 0, 0, 0, 0, 0].map(() => b.delayAfter(1000) / 1000)).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
    expect(b.delayAfter(600_000)).toBe(0);
    expect(new CrashBackoff(0.01).delayAfter(0) + new CrashBackoff(0.01).delayAfter(0)).toBe(0);
  });
});
