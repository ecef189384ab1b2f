/** `get networkpolicy` as kubectl prints it: NAME, POD-SELECTOR (metav1.FormatLabelSelector), AGE. */
import { withNamespace } from './printers.js';
import { age } from './table.js';

interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly Requirement[];
}

interface PolicyObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly creationTimestamp?: string };
  readonly spec?: { readonly podSelector?: Selector };
}

/** labels.Selector's String(): requirements sorted by key; `<none>` for the empty selector. */
export function formatLabelSelector(selector: Selector | undefined): string {
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) requirements.push({ key, text: `${key}=${value}` });
  for (const r of selector?.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(',');
    const text = { In: `${r.key} in (${values})`, NotIn: `${r.key} notin (${values})`, Exists: r.key, DoesNotExist: `!${r.key}` }[r.operator] ?? r.key;
    requirements.push({ key: r.key, text });
  }
  if (requirements.length === 0) return '<none>';
  return requirements
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

export function printNetworkPolicies(list: { readonly items: readonly PolicyObject[] }, all: boolean): string {
  const items = list.items;
  if (items.length === 0) return 'No resources found';
  const rows = items.map((p) => [p.metadata.name, formatLabelSelector(p.spec?.podSelector), age(p.metadata.creationTimestamp)]);
  return withNamespace(all, ['NAME', 'POD-SELECTOR', 'AGE'], rows, items as PolicyObject[]);
}
