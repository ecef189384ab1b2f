/** metav1.LabelSelector matching (labels.Selector built by LabelSelectorAsSelector). */
import type { LabelSelector } from '../../model/network-policy.js';

export function labelSelectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const key in selector.matchLabels) if (labels[key] !== selector.matchLabels[key]) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key] ?? '';
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
