/**
 * networking.k8s.io/v1 NetworkPolicy, checked as ValidateNetworkPolicySpec does
 * (pkg/apis/networking/validation): label selectors, ports (number or name, endPort only
 * with a numeric port and not below it), peers (at least one selector or an ipBlock,
 * ipBlock alone, `except` a strict subset of `cidr`) and policyTypes. Defaults as
 * SetDefaults_NetworkPolicy: protocol TCP; policyTypes [Ingress], plus Egress when the
 * policy has egress rules.
 */
import type {
  IPBlock,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicyRule,
  PolicyType,
} from '../../model/network-policy.js';
import type { IntOrString } from '../../model/types.js';
import { isCIDRText, parseCIDR } from '../ip.js';
import { validateLabels } from '../meta.js';
import { readInt, readIntOrString, readList, readObj, readObjList, readString, readStringList, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isLabelValue, isQualifiedName, isValidPortName, isValidPortNum } from '../validation/names.js';
import type { Located } from './located.js';
import { readProtocol } from './ports.js';

const POLICY_TYPES: readonly PolicyType[] = ['Ingress', 'Egress'];
const CIDR_DETAIL = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** ValidateLabelSelector: matchLabels as labels, each requirement's key, operator and values. */
export function readLabelSelector(r: Reporter, o: Obj, path: string): LabelSelector {
  const matchLabels = readStringMap(r, o, 'matchLabels', path) ?? {};
  validateLabels(r, matchLabels, `${path}.matchLabels`);
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const { item, path: p } of readObjList(r, o, 'matchExpressions', path)) {
    const key = readString(r, item, 'key', p) ?? '';
    r.invalidEach(`${p}.key`, key, isQualifiedName(key));
    const operator = readString(r, item, 'operator', p) ?? '';
    const values = readStringList(r, item, 'values', p);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) r.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) r.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      r.invalid(`${p}.operator`, operator, 'not a valid selector operator');
      continue;
    }
    for (const v of values) r.invalidEach(`${p}.values`, v, isLabelValue(v));
    matchExpressions.push({ key, operator, values });
  }
  return { matchLabels, matchExpressions };
}

function readPort(r: Reporter, item: Obj, path: string): NetworkPolicyPort {
  const protocol = readProtocol(r, item, path);
  const port: IntOrString | undefined = readIntOrString(r, item, 'port', path);
  const endPort = readInt(r, item, 'endPort', path);
  if (port === undefined) {
    if (endPort !== undefined) r.invalid(`${path}.endPort`, endPort, 'may not be specified when `port` is not specified');
    return { protocol };
  }
  if (typeof port === 'string') {
    if (endPort !== undefined) r.invalid(`${path}.endPort`, endPort, 'may not be specified when `port` is non-numeric');
    r.invalidEach(`${path}.port`, port, isValidPortName(port));
    return { protocol, port };
  }
  r.invalidEach(`${path}.port`, port, isValidPortNum(port));
  if (endPort === undefined) return { protocol, port };
  if (endPort < port) r.invalid(`${path}.endPort`, port, 'must be greater than or equal to `port`');
  r.invalidEach(`${path}.endPort`, endPort, isValidPortNum(endPort));
  return { protocol, port, endPort };
}

/** ValidateIPBlock: a CIDR, and each `except` entry a strict subset of it. */
function readIPBlock(r: Reporter, o: Obj, path: string): IPBlock {
  const cidr = readString(r, o, 'cidr', path) ?? '';
  const except = readStringList(r, o, 'except', path);
  if (cidr === '') {
    r.required(`${path}.cidr`);
    return { cidr, except };
  }
  if (!isCIDRText(cidr)) {
    r.invalid(`${path}.cidr`, cidr, CIDR_DETAIL);
    return { cidr, except };
  }
  const outer = parseCIDR(cidr);
  except.forEach((text, i) => {
    const p = `${path}.except[${i}]`;
    if (!isCIDRText(text)) return r.invalid(p, text, CIDR_DETAIL);
    const inner = parseCIDR(text);
    // IPv6 blocks are valid input; aks-emu's addresses are IPv4, so only IPv4 pairs are compared.
    if (outer === undefined || inner === undefined) return;
    const contained = inner.bits > outer.bits && (inner.base & maskOf(outer.bits)) >>> 0 === outer.base;
    if (!contained) r.invalid(p, text, 'must be a strict subset of `cidr`');
  });
  return { cidr, except };
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** ValidateNetworkPolicyPeer: at least one selector or an ipBlock; ipBlock with nothing else. */
function readPeer(r: Reporter, item: Obj, path: string): NetworkPolicyPeer | undefined {
  const podRaw = readObj(r, item, 'podSelector', path);
  const nsRaw = readObj(r, item, 'namespaceSelector', path);
  const ipRaw = readObj(r, item, 'ipBlock', path);
  const count = [podRaw, nsRaw, ipRaw].filter((v) => v !== undefined).length;
  if (count === 0) {
    r.required(path, 'must specify a peer');
    return undefined;
  }
  if (ipRaw !== undefined) {
    if (count > 1) r.forbidden(path, 'may not specify both ipBlock and another peer');
    return { kind: 'ipBlock', ipBlock: readIPBlock(r, ipRaw, `${path}.ipBlock`) };
  }
  return {
    kind: 'pods',
    ...(podRaw === undefined ? {} : { podSelector: readLabelSelector(r, podRaw, `${path}.podSelector`) }),
    ...(nsRaw === undefined ? {} : { namespaceSelector: readLabelSelector(r, nsRaw, `${path}.namespaceSelector`) }),
  };
}

function readRules(r: Reporter, spec: Obj, key: 'ingress' | 'egress'): NetworkPolicyRule[] {
  const peerKey = key === 'ingress' ? 'from' : 'to';
  return readObjList(r, spec, key, 'spec').map(({ item, path }) => ({
    ports: readObjList(r, item, 'ports', path).map((p) => readPort(r, p.item, p.path)),
    peers: readObjList(r, item, peerKey, path).flatMap((p) => readPeer(r, p.item, p.path) ?? []),
  }));
}

function readPolicyTypes(r: Reporter, spec: Obj, hasEgress: boolean): PolicyType[] {
  const raw = readList(r, spec, 'policyTypes', 'spec');
  // SetDefaults_NetworkPolicy: an absent or empty list implies Ingress, plus Egress with egress rules.
  if (raw.length === 0) return hasEgress ? ['Ingress', 'Egress'] : ['Ingress'];
  if (raw.length > POLICY_TYPES.length) {
    r.invalid('spec.policyTypes', raw, 'may not specify more than two policyTypes');
    return [];
  }
  const types: PolicyType[] = [];
  raw.forEach((t, i) => {
    if (typeof t === 'string' && (POLICY_TYPES as readonly string[]).includes(t)) types.push(t as PolicyType);
    else r.notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES);
  });
  return types;
}

export function readNetworkPolicy(r: Reporter, object: Obj, located: Located): NetworkPolicy {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const podRaw = readObj(r, spec, 'podSelector', 'spec');
  const podSelector = podRaw === undefined ? { matchLabels: {}, matchExpressions: [] } : readLabelSelector(r, podRaw, 'spec.podSelector');
  const ingress = readRules(r, spec, 'ingress');
  const egress = readRules(r, spec, 'egress');
  const policyTypes = readPolicyTypes(r, spec, egress.length > 0);
  return { kind: 'NetworkPolicy', ...located, spec: { podSelector, policyTypes, ingress, egress } };
}
