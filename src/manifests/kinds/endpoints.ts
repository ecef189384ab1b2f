/**
 * Endpoints for selector-less Services: discovery.k8s.io/v1 EndpointSlice, and legacy
 * v1 Endpoints normalised into the same shape (one slice per subset, as the
 * EndpointSliceMirroring controller does). Kubernetes rejects loopback endpoint IPs
 * (ValidateNonSpecialIP); aks-emu instead rejects every address its runtime cannot dial,
 * which for the embedded runtime is exactly loopback.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { EndpointSlice, EndpointSliceEndpoint, EndpointSlicePort } from '../../model/types.js';
import { cidrContains, type CIDR } from '../ip.js';
import { isAbsent, readBool, readInt, readObj, readObjList, readString, readStringList, type Item, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortNum } from '../validation/names.js';
import type { Located } from './located.js';
import { readProtocol } from './ports.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'] as const;

/** The address ranges the runtime can dial, and how to say so when an address is outside them. */
export interface DialableRanges {
  readonly cidrs: readonly CIDR[];
  readonly detail: string;
}

function checkDialable(r: Reporter, field: string, address: string, dialable: DialableRanges): void {
  if (!dialable.cidrs.some((cidr) => cidrContains(cidr, address))) r.invalid(field, address, dialable.detail);
}

function checkAddress(r: Reporter, field: string, address: string, type: EndpointSlice['addressType'], dialable: DialableRanges): void {
  if (type === 'FQDN') {
    r.invalidEach(field, address, isDNS1123Subdomain(address));
  } else if (type === 'IPv4' ? !isIPv4(address) : !isIPv6(address)) {
    r.invalid(field, address, `must be a valid ${type} address`);
  } else {
    checkDialable(r, field, address, dialable);
  }
}

/** EndpointPort names are optional but unique; the port number is what aks-emu dials. */
function readEndpointPorts(r: Reporter, items: readonly Item[], requireNames: boolean): EndpointSlicePort[] {
  const names = new Set<string>();
  return items.map(({ item, path }) => {
    const name = readString(r, item, 'name', path) ?? '';
    if (name === '') {
      if (requireNames) r.required(`${path}.name`);
    } else {
      r.invalidEach(`${path}.name`, name, isDNS1123Label(name));
      if (names.has(name)) r.duplicate(`${path}.name`, name);
      names.add(name);
    }
    const port = readInt(r, item, 'port', path);
    if (isAbsent(item, 'port')) r.required(`${path}.port`, 'aks-emu needs the port number to dial');
    else if (port !== undefined) r.invalidEach(`${path}.port`, port, isValidPortNum(port));
    const appProtocol = readString(r, item, 'appProtocol', path);
    return { name, port: port ?? 0, protocol: readProtocol(r, item, path), ...(appProtocol !== undefined && { appProtocol }) };
  });
}

/** undefined when the slice names no Service: nothing would use it. */
export function readEndpointSlice(r: Reporter, object: Obj, located: Located, dialable: DialableRanges): EndpointSlice | undefined {
  const rawType = readString(r, object, 'addressType', '');
  let addressType: EndpointSlice['addressType'] = 'IPv4';
  if (rawType === undefined || rawType === '') r.required('addressType');
  else if ((ADDRESS_TYPES as readonly string[]).includes(rawType)) addressType = rawType as EndpointSlice['addressType'];
  else r.notSupported('addressType', rawType, ADDRESS_TYPES);

  const endpoints = readObjList(r, object, 'endpoints', '').map(({ item, path }): EndpointSliceEndpoint => {
    const addresses = readStringList(r, item, 'addresses', path);
    if (addresses.length === 0) r.required(`${path}.addresses`, 'must contain at least 1 address');
    addresses.forEach((a, i) => checkAddress(r, `${path}.addresses[${i}]`, a, addressType, dialable));
    // EndpointConditions: nil ready means ready; nil serving follows ready.
    const conditions = readObj(r, item, 'conditions', path) ?? {};
    const ready = readBool(r, conditions, 'ready', `${path}.conditions`) ?? true;
    const nodeName = readString(r, item, 'nodeName', path) || undefined;
    return {
      addresses,
      ready,
      serving: readBool(r, conditions, 'serving', `${path}.conditions`) ?? ready,
      terminating: readBool(r, conditions, 'terminating', `${path}.conditions`) ?? false,
      ...(nodeName !== undefined && { nodeName }),
    };
  });
  const ports = readEndpointPorts(r, readObjList(r, object, 'ports', ''), false);
  const serviceName = located.metadata.labels[SERVICE_NAME_LABEL];
  if (serviceName === undefined || serviceName === '') return undefined;
  return { kind: 'EndpointSlice', ...located, serviceName, addressType, endpoints, ports, writtenAs: 'EndpointSlice' };
}

function readEndpointAddresses(r: Reporter, subset: Obj, key: string, path: string, ready: boolean, dialable: DialableRanges) {
  return readObjList(r, subset, key, path).map(({ item, path: p }): EndpointSliceEndpoint => {
    const ip = readString(r, item, 'ip', p) ?? '';
    if (ip === '') r.required(`${p}.ip`);
    else if (!isIPv4(ip) && !isIPv6(ip)) r.invalid(`${p}.ip`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
    else checkDialable(r, `${p}.ip`, ip, dialable);
    const nodeName = readString(r, item, 'nodeName', p) || undefined;
    return { addresses: [ip], ready, serving: ready, terminating: false, ...(nodeName !== undefined && { nodeName }) };
  });
}

/** A legacy v1 Endpoints object: one slice per subset (an object without subsets still says "no endpoints"). */
export function readEndpoints(r: Reporter, object: Obj, located: Located, dialable: DialableRanges): EndpointSlice[] {
  const subsets = readObjList(r, object, 'subsets', '');
  const { name } = located.metadata;
  const slices = subsets.map(({ item, path, index }): EndpointSlice => {
    const endpoints = [
      ...readEndpointAddresses(r, item, 'addresses', path, true, dialable),
      ...readEndpointAddresses(r, item, 'notReadyAddresses', path, false, dialable),
    ];
    const portItems = readObjList(r, item, 'ports', path);
    const first = endpoints[0]?.addresses[0] ?? '';
    return {
      kind: 'EndpointSlice',
      source: located.source,
      metadata: subsets.length === 1 ? located.metadata : { ...located.metadata, name: `${name}-${index}`, uid: `${located.metadata.uid}-${index}` },
      serviceName: name,
      addressType: isIPv6(first) ? 'IPv6' : 'IPv4',
      endpoints,
      // validateEndpointPort: names are required when a subset has more than one port.
      ports: readEndpointPorts(r, portItems, portItems.length > 1),
      writtenAs: 'Endpoints',
    };
  });
  if (slices.length > 0) return slices;
  return [{ kind: 'EndpointSlice', ...located, serviceName: name, addressType: 'IPv4', endpoints: [], ports: [], writtenAs: 'Endpoints' }];
}
