/**
 * networking.k8s.io/v1 Ingress and IngressClass, checked structurally as
 * pkg/apis/networking/validation does. What ingress-nginx itself makes of paths and
 * annotations is the ingress controller's business, not this layer's.
 */
import type { HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressRule, IngressTLS, PathType } from '../../model/types.js';
import { isIPAddress } from '../ip.js';
import { readInt, readObj, readObjList, readString, readStringList, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isDNS1035Label, isDNS1123Subdomain, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain } from '../validation/names.js';
import type { Located } from './located.js';

const PATH_TYPES: readonly PathType[] = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

function readBackend(r: Reporter, backend: Obj, path: string): IngressBackend {
  const service = readObj(r, backend, 'service', path);
  const resource = readObj(r, backend, 'resource', path);
  if (service && resource) {
    r.invalid(path, '', 'cannot set both resource and service backends');
    return {};
  }
  if (resource) {
    const kind = readString(r, resource, 'kind', `${path}.resource`) ?? '';
    const name = readString(r, resource, 'name', `${path}.resource`) ?? '';
    if (kind === '') r.required(`${path}.resource.kind`);
    if (name === '') r.required(`${path}.resource.name`);
    const apiGroup = readString(r, resource, 'apiGroup', `${path}.resource`);
    return { resource: { kind, name, ...(apiGroup !== undefined && { apiGroup }) } };
  }
  if (!service) {
    r.invalid(path, '', 'resource or service backend is required');
    return {};
  }
  const sp = `${path}.service`;
  const name = readString(r, service, 'name', sp) ?? '';
  if (name === '') r.required(`${sp}.name`);
  else r.invalidEach(`${sp}.name`, name, isDNS1035Label(name));
  const port = readObj(r, service, 'port', sp) ?? {};
  const number = readInt(r, port, 'number', `${sp}.port`) || undefined;
  const portName = readString(r, port, 'name', `${sp}.port`) || undefined;
  if (number !== undefined && portName !== undefined) r.invalid(path, '', 'cannot set both port name & port number');
  else if (portName !== undefined) r.invalidEach(`${sp}.port.name`, portName, isValidPortName(portName));
  else if (number !== undefined) r.invalidEach(`${sp}.port.number`, number, isValidPortNum(number));
  else r.required(path, 'port name or number is required');
  return { service: { name, port: { ...(number !== undefined && { number }), ...(portName !== undefined && { name: portName }) } } };
}

function readPath(r: Reporter, item: Obj, p: string): HTTPIngressPath {
  const path = readString(r, item, 'path', p) ?? '';
  const rawType = readString(r, item, 'pathType', p);
  const backend = readBackendAt(r, item, p);
  let pathType: PathType = 'ImplementationSpecific';
  if (rawType === undefined || rawType === '') {
    r.required(`${p}.pathType`, 'pathType must be specified');
  } else if (!(PATH_TYPES as readonly string[]).includes(rawType)) {
    r.notSupported(`${p}.pathType`, rawType, PATH_TYPES);
  } else {
    pathType = rawType as PathType;
    if ((pathType !== 'ImplementationSpecific' || path !== '') && !path.startsWith('/')) {
      r.invalid(`${p}.path`, path, 'must be an absolute path');
    }
    if (pathType !== 'ImplementationSpecific' && path !== '') {
      for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) r.invalid(`${p}.path`, path, `must not contain '${seq}'`);
      for (const suffix of INVALID_PATH_SUFFIXES) if (path.endsWith(suffix)) r.invalid(`${p}.path`, path, `cannot end with '${suffix}'`);
    }
  }
  return { path: path || '/', pathType, backend };
}

function readBackendAt(r: Reporter, parent: Obj, path: string): IngressBackend {
  return readBackend(r, readObj(r, parent, 'backend', path) ?? {}, `${path}.backend`);
}

function checkHost(r: Reporter, host: string, field: string): void {
  if (isIPAddress(host)) r.invalid(field, host, 'must be a DNS name, not an IP address');
  r.invalidEach(field, host, host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host));
}

function readRules(r: Reporter, spec: Obj): IngressRule[] {
  return readObjList(r, spec, 'rules', 'spec').map(({ item, path }) => {
    const host = readString(r, item, 'host', path) || undefined;
    if (host !== undefined) checkHost(r, host, `${path}.host`);
    const http = readObj(r, item, 'http', path);
    if (http === undefined) return { ...(host !== undefined && { host }), paths: [] };
    const items = readObjList(r, http, 'paths', `${path}.http`);
    if (items.length === 0) r.required(`${path}.http.paths`);
    return { ...(host !== undefined && { host }), paths: items.map((p) => readPath(r, p.item, p.path)) };
  });
}

function readTLS(r: Reporter, spec: Obj): IngressTLS[] {
  return readObjList(r, spec, 'tls', 'spec').map(({ item, path }) => {
    const hosts = readStringList(r, item, 'hosts', path);
    hosts.forEach((h, i) => r.invalidEach(`${path}.hosts[${i}]`, h, h.includes('*') ? isWildcardDNS1123Subdomain(h) : isDNS1123Subdomain(h)));
    const secretName = readString(r, item, 'secretName', path) || undefined;
    if (secretName !== undefined) r.invalidEach(`${path}.secretName`, secretName, isDNS1123Subdomain(secretName));
    return { hosts, ...(secretName !== undefined && { secretName }) };
  });
}

export function readIngress(r: Reporter, object: Obj, located: Located): Ingress {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const rules = readRules(r, spec);
  const rawDefault = readObj(r, spec, 'defaultBackend', 'spec');
  const defaultBackend = rawDefault && readBackend(r, rawDefault, 'spec.defaultBackend');
  if (rules.length === 0 && defaultBackend === undefined) r.invalid('spec', null, 'either `defaultBackend` or `rules` must be specified');

  const className = readString(r, spec, 'ingressClassName', 'spec');
  if (className !== undefined) r.invalidEach('spec.ingressClassName', className, isDNS1123Subdomain(className));
  const legacyClass = located.metadata.annotations[CLASS_ANNOTATION];
  if (legacyClass !== undefined && className !== undefined && legacyClass !== className) {
    r.invalid(`annotations.${CLASS_ANNOTATION}`, legacyClass, 'must match `ingressClassName` when both are specified');
  }
  // Controllers still honour the pre-v1 annotation when spec.ingressClassName is unset.
  const ingressClassName = className ?? legacyClass;
  return {
    kind: 'Ingress',
    ...located,
    spec: {
      ...(ingressClassName !== undefined && { ingressClassName }),
      ...(defaultBackend !== undefined && { defaultBackend }),
      tls: readTLS(r, spec),
      rules,
    },
  };
}

export function readIngressClass(r: Reporter, object: Obj, located: Located): IngressClass {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const controller = readString(r, spec, 'controller', 'spec') ?? '';
  if (controller === '') r.required('spec.controller');
  return { kind: 'IngressClass', ...located, spec: { controller }, isDefault: located.metadata.annotations[DEFAULT_CLASS_ANNOTATION] === 'true' };
}
