/**
 * Prometheus' text exposition format (version 0.0.4): per family one `# HELP` and one
 * `# TYPE` line, then its samples, all together; label values escaped (backslash, double
 * quote, line feed); histograms as cumulative `_bucket{le=...}` series ending in `+Inf`,
 * then `_sum` and `_count`.
 */
import type { Histogram } from './histogram.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string | number | undefined>>;

export type MetricType = 'counter' | 'gauge' | 'histogram';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels, extra?: string): string {
  const parts: string[] = [];
  for (const name in labels) {
    const value = labels[name];
    // An absent value is an empty label, which Prometheus treats as no label at all.
    if (value === undefined || value === '') continue;
    parts.push(`${name}="${escapeLabelValue(String(value))}"`);
  }
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** One family: its samples are written under its HELP and TYPE, whatever order they were added in. */
export class Family {
  readonly #lines: string[] = [];

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
  }

  /** A counter or gauge sample. */
  set(labels: Labels, value: number): this {
    checkLabels(labels);
    this.#lines.push(`${this.name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  observe(labels: Labels, histogram: Histogram): this {
    checkLabels(labels);
    const cumulative = histogram.cumulative();
    histogram.bounds.forEach((bound, i) => {
      this.#lines.push(`${this.name}_bucket${formatLabels(labels, `le="${formatValue(bound)}"`)} ${cumulative[i]}`);
    });
    this.#lines.push(`${this.name}_bucket${formatLabels(labels, 'le="+Inf"')} ${histogram.count}`);
    this.#lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(histogram.sum)}`);
    this.#lines.push(`${this.name}_count${formatLabels(labels)} ${histogram.count}`);
    return this;
  }

  text(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n${this.#lines.map((l) => `${l}\n`).join('')}`;
  }
}

function checkLabels(labels: Labels): void {
  for (const name in labels) if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`invalid label name ${name}`);
}

/** Families in the order they were first asked for; asking twice for a name returns the same family. */
export class Exposition {
  readonly #families = new Map<string, Family>();

  family(name: string, type: MetricType, help: string): Family {
    let family = this.#families.get(name);
    if (family === undefined) this.#families.set(name, (family = new Family(name, type, help)));
    else if (family.type !== type) throw new Error(`metric ${name} is a ${family.type}, not a ${type}`);
    return family;
  }

  counter(name: string, help: string): Family {
    return this.family(name, 'counter', help);
  }

  gauge(name: string, help: string): Family {
    return this.family(name, 'gauge', help);
  }

  histogram(name: string, help: string): Family {
    return this.family(name, 'histogram', help);
  }

  text(): string {
    return [...this.#families.values()].map((f) => f.text()).join('');
  }
}
