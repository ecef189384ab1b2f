/**
 * Control's /metrics in the container runtime: the expositions each role rendered itself
 * (the one renderer, metrics.ts) put into one, as a Prometheus federation would: every
 * sample gets its source's `job` (control, lb, node) and `instance` (control, lb, the node's
 * name) labels, a label the source already had of that name is kept as `exported_job` /
 * `exported_instance`, and each family's HELP and TYPE come once with all its samples after
 * them. Text that is not the exposition format is refused whole (the source is counted down).
 */

export interface FederatedSource {
  readonly job: string;
  readonly instance: string;
  /** The source's exposition, or undefined when it could not be read. */
  readonly text: string | undefined;
}

interface Family {
  help: string | undefined;
  type: string | undefined;
  readonly samples: string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)( -?\d+)?$/;
const VALUE = /^(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]Inf|NaN)$/;

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `job="…",instance="…"` in front of the sample's own labels (renamed when they clash). */
function relabel(labels: string | undefined, job: string, instance: string): string {
  const own = (labels ?? '').replace(/(^|,)(job|instance)="/g, '$1exported_$2="');
  const added = `job="${escape(job)}",instance="${escape(instance)}"`;
  return own === '' ? added : `${added},${own}`;
}

/** A sample belongs to the family whose HELP/TYPE it follows when it is that family's (histograms' _bucket, _sum, _count). */
function parse(text: string, job: string, instance: string, into: Map<string, Family>): void {
  let current: { readonly name: string; readonly family: Family } | undefined;
  const familyOf = (name: string): Family => {
    let family = into.get(name);
    if (family === undefined) into.set(name, (family = { help: undefined, type: undefined, samples: [] }));
    return family;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta !== null) {
      current = { name: meta[2]!, family: familyOf(meta[2]!) };
      if (meta[1] === 'HELP') current.family.help ??= meta[3];
      else current.family.type ??= meta[3];
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (sample === null || !VALUE.test(sample[3]!)) throw new Error(`not a sample: ${line.slice(0, 100)}`);
    const name = sample[1]!;
    const own = current !== undefined && (name === current.name || ['_bucket', '_sum', '_count'].some((s) => name === current!.name + s));
    (own ? current!.family : familyOf(name)).samples.push(`${name}{${relabel(sample[2], job, instance)}} ${sample[3]}${sample[4] ?? ''}`);
  }
}

/** One exposition of every source; `aks_emu_federate_up` says which sources answered. */
export function federate(sources: readonly FederatedSource[], log: (line: string) => void = () => {}): string {
  const families = new Map<string, Family>();
  const up: string[] = [];
  for (const source of sources) {
    let ok = source.text !== undefined;
    if (source.text !== undefined) {
      const parsed = new Map<string, Family>();
      try {
        parse(source.text, source.job, source.instance, parsed);
      } catch (err) {
        log(`metrics of ${source.job} ${source.instance} left out: ${(err as Error).message}`);
        ok = false;
      }
      if (ok) {
        for (const [name, family] of parsed) {
          const into = families.get(name);
          if (into === undefined) families.set(name, family);
          else into.samples.push(...family.samples);
        }
      }
    }
    up.push(`aks_emu_federate_up{${relabel(undefined, source.job, source.instance)}} ${ok ? 1 : 0}`);
  }
  families.set('aks_emu_federate_up', {
    help: 'Whether control read this role\u2019s metrics (1) or could not (0) when /metrics was read.',
    type: 'gauge',
    samples: up,
  });
  let out = '';
  for (const [name, family] of families) {
    if (family.help !== undefined) out += `# HELP ${name} ${family.help}\n`;
    if (family.type !== undefined) out += `# TYPE ${name} ${family.type}\n`;
    for (const sample of family.samples) out += `${sample}\n`;
  }
  return out;
}
