/**
 * `GET /aks-emu/v1/explain/flow?from=&to=&port=&via=&namespace=`: which NetworkPolicy allows
 * or drops a connection (src/cluster/netpol/explain-flow.ts), as `aks-emu explain flow` prints it.
 */
import type { Snapshot } from '../cluster/snapshot.js';
import { explainFlow, formatFlowExplanation } from '../cluster/netpol/explain-flow.js';
import { AksEmuError } from '../errors/index.js';

export function explainFlowRoute(snapshot: Snapshot, q: URLSearchParams) {
  const from = q.get('from');
  const to = q.get('to');
  if (!from) throw new AksEmuError('AKS_EMU_USAGE', 'explain flow needs a source (?from=pod/NAME, node/NAME or an IP)');
  if (!to) throw new AksEmuError('AKS_EMU_USAGE', 'explain flow needs a target (?to=pod/NAME, svc/NAME or an IP)');
  const optional = (key: 'port' | 'via' | 'namespace') => {
    const value = q.get(key);
    return value === null ? {} : { [key]: value };
  };
  const explanation = explainFlow(snapshot, { from, to, ...optional('port'), ...optional('via'), ...optional('namespace') });
  return { explanation, text: formatFlowExplanation(explanation) };
}
