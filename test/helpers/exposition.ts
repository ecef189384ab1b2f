/**
 * A strict reader of Prometheus' text exposition format 0.0.4, for tests: every line is a
 * HELP, a TYPE or a sample; names and label names match the format's grammar; a family's
 * HELP and TYPE come once and before its samples, which are not interleaved with another
 * family's; counters and histogram buckets are not negative; each histogram series has
 * cumulative buckets ending in le="+Inf" equal to its _count. Throws naming the line.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`line ${line}: malformed labels {${text}}`);
    const name = m[1]!;
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    labels[name] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: value "${text}" is not a float`);
  return Number(text);
}

export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const finished = new Set<string>();
  const samples: Sample[] = [];
  let current: string | undefined;
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const lines = text.slice(0, -1).split('\n');
  const familyOf = (name: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = name.slice(0, -suffix.length);
      if (name.endsWith(suffix) && types.get(base) === 'histogram') return base;
    }
    return name;
  };
  const enter = (family: string, n: number) => {
    if (current === family) return;
    if (finished.has(family)) throw new Error(`line ${n}: family ${family} continues after another family`);
    if (current !== undefined) finished.add(current);
    current = family;
  };
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0]!;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
      if (helps.has(name)) throw new Error(`line ${n}: second HELP for ${name}`);
      helps.add(name);
      enter(name, n);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ');
      if (extra !== undefined || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '')) throw new Error(`line ${n}: bad TYPE line`);
      if (types.has(name!)) throw new Error(`line ${n}: second TYPE for ${name}`);
      if (samples.some((s) => familyOf(s.name) === name)) throw new Error(`line ${n}: TYPE for ${name} after its samples`);
      types.set(name!, type!);
      enter(name!, n);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${n}: not a sample: ${line}`);
    const name = m[1]!;
    const family = familyOf(name);
    enter(family, n);
    const value = parseValue(m[3]!, n);
    const type = types.get(family);
    if ((type === 'counter' || type === 'histogram') && !(value >= 0)) throw new Error(`line ${n}: ${type} ${name} is ${value}`);
    samples.push({ name, labels: m[2] === undefined ? {} : parseLabels(m[2], n), value });
  });
  checkHistograms(types, samples);
  return { types, samples };
}

function seriesKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== 'le')
      .sort(),
  );
}

function checkHistograms(types: Map<string, string>, samples: readonly Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { le: number; value: number }[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const le = s.labels.le;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = seriesKey(s.labels);
      series.set(key, [...(series.get(key) ?? []), { le: parseValue(le, 0), value: s.value }]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i]!.le > buckets[i - 1]!.le) || buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family}${key}: buckets not cumulative`);
      }
      const last = buckets.at(-1)!;
      const count = samples.find((s) => s.name === `${family}_count` && seriesKey(s.labels) === key);
      if (last.le !== Infinity || count === undefined || count.value !== last.value) throw new Error(`${family}${key}: +Inf bucket and _count disagree`);
      if (!samples.some((s) => s.name === `${family}_sum` && seriesKey(s.labels) === key)) throw new Error(`${family}${key}: no _sum`);
    }
  }
}

/** The sum of a metric's samples whose labels include `where`. */
export function total(samples: readonly Sample[], name: string, where: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}
