import { describe, expect, it } from 'vitest';
import { renderProfile, summariseProfile, type CpuProfile } from '../report/profile-summary.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('onData', 'file:///work/main/src/dataplane/l4/splice.ts', 88), children: [4] },
    { id: 4, callFrame: frame('writev', 'node:internal/stream_base_commons', 10) },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  samples: [2, 3, 3, 4, 5, 3, 2],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000],
  startTime: 0,
  endTime: 7000,
};

describe('the CPU profile summary', () => {
  it('ranks functions by self time, with shares of the busy time', () => {
    const s = summariseProfile(PROFILE);
    expect(s.totalMs).toBe(7);
    expect(s.idleMs).toBe(2);
    expect(s.functions[0]).toEqual({ name: 'onData src/dataplane/l4/splice.ts', ms: 3, share: 0.6 });
    expect(s.functions.map((f) => f.name)).toContain('(garbage collector) (native)');
    expect(s.functions.map((f) => f.name)).toContain('writev node:internal/stream_base_commons:11');
    expect(s.files[0]).toMatchObject({ name: 'src/dataplane/l4/splice.ts', ms: 3 });
  });

  it("charges aks-emu's functions with the time of what they call", () => {
    expect(summariseProfile(PROFILE).inclusive).toEqual([{ name: 'onData src/dataplane/l4/splice.ts', ms: 4, share: 0.8 }]);
  });

  it('renders the ranking as markdown tables', () => {
    const text = renderProfile(summariseProfile(PROFILE), 'profile');
    expect(text).toContain('| `onData src/dataplane/l4/splice.ts` | 3 | 60.0% |');
  });
});
