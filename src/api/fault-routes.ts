/**
 * The fault API (docs/faults.md):
 *   POST   /aks-emu/v1/faults        {"type", "target", "params", "for"} → 201 Fault
 *   GET    /aks-emu/v1/faults        → {"kind": "FaultList", "items": [...]}
 *   GET    /aks-emu/v1/faults/{id}   → Fault
 *   DELETE /aks-emu/v1/faults/{id}   → the removed Fault
 *   DELETE /aks-emu/v1/faults        → FaultList of the removed faults
 * Errors are Statuses naming the field; a refused fault changes nothing.
 */
import type { ServerResponse } from 'node:http';
import { ApiStatusError } from '../errors/index.js';
import type { Fault, FaultList } from '../faults/types.js';
import type { Target } from './http/guard.js';

/** What a runtime offers for faults; the embedded cluster implements it. */
export interface FaultControl {
  addFault(body: unknown): Promise<Fault>;
  faults(): Fault[];
  fault(id: string): Fault;
  removeFault(id: string): Promise<Fault>;
  /** Removes every fault; resolves with the removed ones. */
  clearFaults(): Promise<Fault[]>;
}

export const FAULTS_PATH = '/aks-emu/v1/faults';

function reply(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function list(items: readonly Fault[]): FaultList {
  return { kind: 'FaultList', items };
}

/** True when the request was a fault route and has been answered; throws a Status to refuse it. */
export async function handleFaultRoute(
  control: FaultControl | undefined,
  method: string,
  target: Target,
  body: () => Promise<Buffer | undefined>,
  res: ServerResponse,
): Promise<boolean> {
  const [a, b, c, id, ...rest] = target.segments;
  if (a !== 'aks-emu' || b !== 'v1' || c !== 'faults' || rest.length > 0) return false;
  if (control === undefined) throw new ApiStatusError('NotFound', 'this runtime has no fault API (faults run in the embedded runtime)');
  if (id === undefined) {
    if (method === 'GET') return (reply(res, 200, list(control.faults())), true);
    if (method === 'DELETE') return (reply(res, 200, list(await control.clearFaults())), true);
    if (method === 'POST') {
      const raw = await body();
      if (raw === undefined || raw.length === 0)
        throw new ApiStatusError('BadRequest', 'a fault needs a JSON body {"type": ..., "target": "KIND/NAMESPACE/NAME", "params": {...}}');
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        throw new ApiStatusError('BadRequest', `request body is not valid JSON: ${(err as Error).message}`, undefined, { cause: err });
      }
      return (reply(res, 201, await control.addFault(parsed)), true);
    }
  } else {
    if (method === 'GET') return (reply(res, 200, control.fault(id)), true);
    if (method === 'DELETE') return (reply(res, 200, await control.removeFault(id)), true);
  }
  throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${target.path})`);
}
