/**
 * The parts of a PodSpec that shape traffic: containers, their ports and probes, and
 * placement. Defaults follow SetDefaults_Probe / SetDefaults_HTTPGetAction; checks follow
 * validateContainers and validateProbe in core validation.go.
 */
import type {
  Container,
  ContainerPort,
  EnvFromSource,
  EnvVar,
  EnvVarSource,
  HttpGetAction,
  IntOrString,
  KeyRef,
  PodSpec,
  ProbeSpec,
} from '../../model/types.js';
import { isAbsent, readBool, readInt, readIntOrString, readObj, readObjList, readString, readStringList, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isDNS1123Label, isHTTPHeaderName, isValidPortName, isValidPortNum } from '../validation/names.js';
import { checkPortNumOrName, readProtocol } from './ports.js';

const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;
const IS_NEGATIVE = 'must be greater than or equal to 0';

type ProbeKind = 'readinessProbe' | 'livenessProbe' | 'startupProbe';

function readContainerPorts(r: Reporter, c: Obj, path: string): ContainerPort[] {
  const names = new Set<string>();
  return readObjList(r, c, 'ports', path).map(({ item, path: p }) => {
    const raw = readInt(r, item, 'containerPort', p);
    const containerPort = raw ?? 0;
    if (isAbsent(item, 'containerPort') || raw === 0) r.required(`${p}.containerPort`);
    else if (raw !== undefined) r.invalidEach(`${p}.containerPort`, containerPort, isValidPortNum(containerPort));
    const name = readString(r, item, 'name', p) || undefined;
    if (name !== undefined) {
      r.invalidEach(`${p}.name`, name, isValidPortName(name));
      if (names.has(name)) r.duplicate(`${p}.name`, name);
      names.add(name);
    }
    return { ...(name !== undefined && { name }), containerPort, protocol: readProtocol(r, item, p) };
  });
}

/**
 * A probe's port. A name must be one of the container's own ports: the kubelet resolves
 * it there (findPortByName) and the probe can never run otherwise.
 */
function readProbePort(r: Reporter, handler: Obj, path: string, ports: readonly ContainerPort[]): IntOrString {
  const raw = readIntOrString(r, handler, 'port', path);
  const port = raw ?? 0;
  if (raw !== undefined || isAbsent(handler, 'port')) checkPortNumOrName(r, port, `${path}.port`);
  if (typeof port === 'string' && port !== '' && !ports.some((p) => p.name === port)) {
    r.invalid(`${path}.port`, port, 'must be the name of a port of this container (containers[].ports[].name)');
  }
  return port;
}

function readHttpGet(r: Reporter, handler: Obj, path: string, ports: readonly ContainerPort[]): HttpGetAction {
  const port = readProbePort(r, handler, path, ports);
  const scheme = readString(r, handler, 'scheme', path) || 'HTTP';
  if (scheme !== 'HTTP' && scheme !== 'HTTPS') r.notSupported(`${path}.scheme`, scheme, ['HTTP', 'HTTPS']);
  const httpHeaders = readObjList(r, handler, 'httpHeaders', path).map(({ item, path: p }) => {
    const name = readString(r, item, 'name', p) ?? '';
    r.invalidEach(`${path}.httpHeaders`, name, isHTTPHeaderName(name));
    return { name, value: readString(r, item, 'value', p) ?? '' };
  });
  return {
    path: readString(r, handler, 'path', path) || '/',
    port,
    scheme: scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
    httpHeaders,
  };
}

/** A probe field where 0 (or absence) means the default, as SetDefaults_Probe treats it. */
function readProbeNumber(r: Reporter, probe: Obj, key: string, path: string, fallback: number): number {
  const n = readInt(r, probe, key, path) ?? 0;
  if (n < 0) r.invalid(`${path}.${key}`, n, IS_NEGATIVE);
  return n > 0 ? n : fallback;
}

function readProbe(r: Reporter, c: Obj, kind: ProbeKind, path: string, ports: readonly ContainerPort[]): ProbeSpec | undefined {
  const probe = readObj(r, c, kind, path);
  if (probe === undefined) return undefined;
  const p = `${path}.${kind}`;
  const present = HANDLERS.filter((h) => probe[h] !== undefined && probe[h] !== null);
  if (present.length === 0) r.required(p, 'must specify a handler type');
  for (const extra of present.slice(1)) r.forbidden(`${p}.${extra}`, 'may not specify more than 1 handler type');

  const httpGet = readObj(r, probe, 'httpGet', p);
  const tcpSocket = readObj(r, probe, 'tcpSocket', p);
  const exec = readObj(r, probe, 'exec', p);
  const grpc = readObj(r, probe, 'grpc', p);
  const successThreshold = readProbeNumber(r, probe, 'successThreshold', p, 1);
  if (kind !== 'readinessProbe' && successThreshold !== 1) r.invalid(`${p}.successThreshold`, successThreshold, 'must be 1');
  const initialDelaySeconds = readInt(r, probe, 'initialDelaySeconds', p) ?? 0;
  if (initialDelaySeconds < 0) r.invalid(`${p}.initialDelaySeconds`, initialDelaySeconds, IS_NEGATIVE);
  return {
    ...(httpGet && { httpGet: readHttpGet(r, httpGet, `${p}.httpGet`, ports) }),
    ...(tcpSocket && { tcpSocket: { port: readProbePort(r, tcpSocket, `${p}.tcpSocket`, ports) } }),
    ...(exec && { exec: { command: readStringList(r, exec, 'command', `${p}.exec`) } }),
    ...(grpc && { grpc: readGrpc(r, grpc, `${p}.grpc`) }),
    initialDelaySeconds: Math.max(0, initialDelaySeconds),
    periodSeconds: readProbeNumber(r, probe, 'periodSeconds', p, 10),
    timeoutSeconds: readProbeNumber(r, probe, 'timeoutSeconds', p, 1),
    successThreshold,
    failureThreshold: readProbeNumber(r, probe, 'failureThreshold', p, 3),
  };
}

function readGrpc(r: Reporter, grpc: Obj, path: string): { port: number; service?: string } {
  const raw = readInt(r, grpc, 'port', path);
  const port = raw ?? 0;
  if (raw !== undefined || isAbsent(grpc, 'port')) r.invalidEach(`${path}.port`, port, isValidPortNum(port));
  const service = readString(r, grpc, 'service', path);
  return { port, ...(service !== undefined && { service }) };
}

/** validateEnv: a name, and either a value or one source. */
function readEnv(r: Reporter, c: Obj, path: string): EnvVar[] {
  return readObjList(r, c, 'env', path).map(({ item, path: p }) => {
    const name = readString(r, item, 'name', p) ?? '';
    if (name === '') r.required(`${p}.name`);
    const value = readString(r, item, 'value', p);
    const from = readObj(r, item, 'valueFrom', p);
    let valueFrom: EnvVarSource | undefined;
    if (from !== undefined) {
      const fp = `${p}.valueFrom`;
      const configMapKeyRef = readObj(r, from, 'configMapKeyRef', fp);
      const secretKeyRef = readObj(r, from, 'secretKeyRef', fp);
      const fieldRef = readObj(r, from, 'fieldRef', fp);
      const sources = [configMapKeyRef, secretKeyRef, fieldRef, readObj(r, from, 'resourceFieldRef', fp)].filter((x) => x !== undefined);
      if (sources.length > 1) r.invalid(fp, '', 'may not have more than one field specified at a time');
      if (value !== undefined && value !== '') r.invalid(fp, '', 'may not be specified when `value` is not empty');
      if (configMapKeyRef) valueFrom = { configMapKeyRef: readKeyRef(r, configMapKeyRef, `${fp}.configMapKeyRef`) };
      else if (secretKeyRef) valueFrom = { secretKeyRef: readKeyRef(r, secretKeyRef, `${fp}.secretKeyRef`) };
      else if (fieldRef) valueFrom = { fieldRef: { fieldPath: readString(r, fieldRef, 'fieldPath', `${fp}.fieldRef`) ?? '' } };
    }
    return { name, ...(value !== undefined && { value }), ...(valueFrom && { valueFrom }) };
  });
}

function readKeyRef(r: Reporter, ref: Obj, path: string): KeyRef {
  const key = readString(r, ref, 'key', path) ?? '';
  if (key === '') r.required(`${path}.key`);
  return { name: readString(r, ref, 'name', path) ?? '', key, optional: readBool(r, ref, 'optional', path) ?? false };
}

function readEnvFrom(r: Reporter, c: Obj, path: string): EnvFromSource[] {
  return readObjList(r, c, 'envFrom', path).map(({ item, path: p }) => {
    const ref = (key: 'configMapRef' | 'secretRef') => {
      const o = readObj(r, item, key, p);
      return o && { name: readString(r, o, 'name', `${p}.${key}`) ?? '', optional: readBool(r, o, 'optional', `${p}.${key}`) ?? false };
    };
    const configMapRef = ref('configMapRef');
    const secretRef = ref('secretRef');
    if (configMapRef && secretRef) r.invalid(p, '', 'may not have more than one field specified at a time');
    return { prefix: readString(r, item, 'prefix', p) ?? '', ...(configMapRef && { configMapRef }), ...(secretRef && { secretRef }) };
  });
}

function readContainers(r: Reporter, spec: Obj, key: 'containers' | 'initContainers', path: string, names: Set<string>): Container[] {
  return readObjList(r, spec, key, path).map(({ item, path: p }) => {
    const name = readString(r, item, 'name', p) ?? '';
    if (name === '') r.required(`${p}.name`);
    else {
      r.invalidEach(`${p}.name`, name, isDNS1123Label(name));
      if (names.has(name)) r.duplicate(`${p}.name`, name);
      names.add(name);
    }
    const ports = readContainerPorts(r, item, p);
    const readinessProbe = readProbe(r, item, 'readinessProbe', p, ports);
    const livenessProbe = readProbe(r, item, 'livenessProbe', p, ports);
    const startupProbe = readProbe(r, item, 'startupProbe', p, ports);
    const command = isAbsent(item, 'command') ? undefined : readStringList(r, item, 'command', p);
    const args = isAbsent(item, 'args') ? undefined : readStringList(r, item, 'args', p);
    const workingDir = readString(r, item, 'workingDir', p) || undefined;
    const imagePullPolicy = readString(r, item, 'imagePullPolicy', p) || undefined;
    if (imagePullPolicy !== undefined && !PULL_POLICIES.includes(imagePullPolicy as (typeof PULL_POLICIES)[number])) {
      r.notSupported(`${p}.imagePullPolicy`, imagePullPolicy, [...PULL_POLICIES]);
    }
    const env = readEnv(r, item, p);
    const envFrom = readEnvFrom(r, item, p);
    return {
      name,
      image: readString(r, item, 'image', p) ?? '',
      ports,
      ...(command && { command }),
      ...(args && { args }),
      ...(workingDir !== undefined && { workingDir }),
      ...(imagePullPolicy !== undefined &&
        PULL_POLICIES.includes(imagePullPolicy as (typeof PULL_POLICIES)[number]) && { imagePullPolicy: imagePullPolicy as (typeof PULL_POLICIES)[number] }),
      ...(env.length > 0 && { env }),
      ...(envFrom.length > 0 && { envFrom }),
      ...(readinessProbe && { readinessProbe }),
      ...(livenessProbe && { livenessProbe }),
      ...(startupProbe && { startupProbe }),
    };
  });
}

/** `path` is where the PodSpec sits: `spec` for a Pod, `spec.template.spec` for a workload. */
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export function readPodSpec(r: Reporter, spec: Obj, path: string): PodSpec {
  // Container names are unique across app and init containers (validateInitContainers).
  const names = new Set<string>();
  const containers = readContainers(r, spec, 'containers', path, names);
  if (containers.length === 0) r.required(`${path}.containers`);
  const initContainers = readContainers(r, spec, 'initContainers', path, names);
  const nodeName = readString(r, spec, 'nodeName', path) || undefined;
  const grace = readInt(r, spec, 'terminationGracePeriodSeconds', path);
  if (grace !== undefined && grace < 0) r.invalid(`${path}.terminationGracePeriodSeconds`, grace, IS_NEGATIVE);
  const restartPolicy = readString(r, spec, 'restartPolicy', path) || undefined;
  if (restartPolicy !== undefined && restartPolicy !== 'Always' && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    r.notSupported(`${path}.restartPolicy`, restartPolicy, ['Always', 'OnFailure', 'Never']);
  }
  // ValidatePodSpec checks both as DNS-1123 labels: together they become a DNS name.
  const hostname = readString(r, spec, 'hostname', path) || undefined;
  if (hostname !== undefined) r.invalidEach(`${path}.hostname`, hostname, isDNS1123Label(hostname));
  const subdomain = readString(r, spec, 'subdomain', path) || undefined;
  if (subdomain !== undefined) r.invalidEach(`${path}.subdomain`, subdomain, isDNS1123Label(subdomain));
  return {
    ...(hostname !== undefined && { hostname }),
    ...(subdomain !== undefined && { subdomain }),
    ...(grace !== undefined && grace >= 0 && { terminationGracePeriodSeconds: grace }),
    ...((restartPolicy === 'Always' || restartPolicy === 'OnFailure' || restartPolicy === 'Never') && { restartPolicy }),
    ...(nodeName !== undefined && { nodeName }),
    nodeSelector: readStringMap(r, spec, 'nodeSelector', path) ?? {},
    containers,
    initContainers,
    hostNetwork: readBool(r, spec, 'hostNetwork', path) ?? false,
  };
}
