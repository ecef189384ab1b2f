import type { IntOrString, Protocol } from '../../model/types.js';
import { readString, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isValidPortName, isValidPortNum } from '../validation/names.js';

/** sets.List order, as the API server prints supported values. */
const PROTOCOLS: readonly Protocol[] = ['SCTP', 'TCP', 'UDP'];

/** `protocol`, defaulting to TCP as SetDefaults_ServicePort and SetDefaults_ContainerPort do. */
export function readProtocol(r: Reporter, item: Obj, path: string): Protocol {
  const protocol = readString(r, item, 'protocol', path);
  if (protocol === undefined || protocol === '') return 'TCP';
  if ((PROTOCOLS as readonly string[]).includes(protocol)) return protocol as Protocol;
  r.notSupported(`${path}.protocol`, protocol, PROTOCOLS);
  return 'TCP';
}

/** ValidatePortNumOrName: a port number, or an IANA service name. */
export function checkPortNumOrName(r: Reporter, port: IntOrString, field: string): void {
  r.invalidEach(field, port, typeof port === 'number' ? isValidPortNum(port) : isValidPortName(port));
}
