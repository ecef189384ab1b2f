/**
 * Where aks-emu's time goes, from a V8 .cpuprofile (node --cpu-prof): self time per
 * function and per file, the busiest first. Idle time is left out of the shares;
 * `(garbage collector)` and `(program)` (V8 and libuv outside JS) stay in.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: readonly SelfTime[];
  readonly files: readonly SelfTime[];
  /** aks-emu's own functions (src/) with everything they call: which stage costs what. */
  readonly inclusive: readonly SelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const at = url.indexOf('/src/');
  if (at >= 0) return url.slice(at + 1);
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm);
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
  const inclusive = new Map<string, number>();
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = shortUrl(frame.url);
    // Lines of files tsx transpiled (src/, perf/) are the generated code's, not the source's.
    const line = frame.url.startsWith('node:') ? `:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where}${line}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(where, (file.get(where) ?? 0) + us);
    // Each src/ function on the stack once, however deep the recursion.
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f || !shortUrl(f.url).startsWith('src/')) continue;
      onStack.add(`${f.functionName || '(anonymous)'} ${shortUrl(f.url)}`);
    }
    for (const key of onStack) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, functions: rank(fn), files: rank(file), inclusive: rank(inclusive) };
}

export function renderProfile(summary: ProfileSummary, title: string): string {
  const pct = (s: number): string => `${(s * 100).toFixed(1)}%`;
  const lines = [
    `# ${title}`,
    '',
    `Sampled ${(summary.totalMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s; shares are of the busy time.`,
    '',
    '## Top functions (self time)',
    '',
    '| function | ms | share |',
    '|---|--:|--:|',
    ...summary.functions.map((f) => `| \`${f.name}\` | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
    '',
    "## aks-emu's own functions, with what they call (inclusive time)",
    '',
    '| function | ms | share |',
    '|---|--:|--:|',
    ...summary.inclusive.map((f) => `| \`${f.name}\` | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
    '',
    '## By file (self time)',
    '',
    '| file | ms | share |',
    '|---|--:|--:|',
    ...summary.files.map((f) => `| \`${f.name}\` | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
