/** `aks-emu explain flow`: the NetworkPolicy decision for a connection, read from the running emulator's snapshot. */
import type { Snapshot } from '../../cluster/snapshot.js';
import { explainFlow, formatFlowExplanation } from '../../cluster/netpol/explain-flow.js';
import { adminRequest, serverUrl } from '../admin-client.js';
import { usageError } from '../args.js';

export async function explainFlowCommand(
  values: { from?: string; to?: string; port?: string; via?: string; namespace?: string; output?: string; server?: string },
  extra: string | undefined,
  out: (line: string) => void,
): Promise<number> {
  if (extra) throw usageError('explain', `unexpected argument "${extra}"`);
  if (!values.from) throw usageError('explain', 'the flag --from is required (pod/NAME, node/NAME or an IP)');
  if (!values.to) throw usageError('explain', 'the flag --to is required (pod/NAME, svc/NAME or an IP)');
  if (values.output !== undefined && values.output !== 'json') throw usageError('explain', `invalid value "${values.output}" for flag -o: must be json`);
  const snapshot = (await adminRequest(serverUrl(values.server), '/aks-emu/v1/snapshot')) as Snapshot;
  const explanation = explainFlow(snapshot, {
    from: values.from,
    to: values.to,
    ...(values.port === undefined ? {} : { port: values.port }),
    ...(values.via === undefined ? {} : { via: values.via }),
    ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
  });
  out(values.output === 'json' ? JSON.stringify(explanation, null, 2) : formatFlowExplanation(explanation));
  return 0;
}
