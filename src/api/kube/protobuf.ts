/**
 * The Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`), decoded for the
 * objects kubectl's typed generators send: `kubectl create namespace`, `create configmap`,
 * `create secret generic|tls|docker-registry`, `create service ...` and `create deployment` POST their object
 * as protobuf whatever the server advertises (client-go only falls back to JSON for CBOR).
 *
 * The envelope is the magic `k8s\0` and a runtime.Unknown {typeMeta{apiVersion, kind}, raw};
 * raw is the object's message, decoded here with the field numbers of k8s.io/api's
 * generated.proto for these few kinds. A field this table does not know is refused unless
 * it carries its zero value (Go's protobuf marshaller writes every non-pointer field, and
 * zero is what JSON leaves out), so nothing the client sent is silently dropped.
 */
import { ApiStatusError } from '../../errors/index.js';

/** s string, i int, b bool, y bytes (base64 in JSON), t Time; `?` keeps a zero (a pointer in Go); `[]` repeated. */
type Scalar = 's' | 'i' | 'i?' | 'b' | 'b?' | 'y' | 't';
/** A map<string, V> whose entries are {1: key, 2: value}. */
type MapOf = { readonly map: Scalar | 'quantity' };
type FieldType = Scalar | MapOf | string;
type Field = readonly [json: string, type: FieldType, repeated?: 'repeated'];

const MESSAGES: Record<string, Record<number, Field>> = {
  ObjectMeta: {
    1: ['name', 's'],
    2: ['generateName', 's'],
    3: ['namespace', 's'],
    4: ['selfLink', 's'],
    5: ['uid', 's'],
    6: ['resourceVersion', 's'],
    7: ['generation', 'i'],
    8: ['creationTimestamp', 't'],
    9: ['deletionTimestamp', 't'],
    10: ['deletionGracePeriodSeconds', 'i?'],
    11: ['labels', { map: 's' }],
    12: ['annotations', { map: 's' }],
    14: ['finalizers', 's', 'repeated'],
  },
  Namespace: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'NamespaceSpec'], 3: ['status', 'Status'] },
  NamespaceSpec: { 1: ['finalizers', 's', 'repeated'] },
  ConfigMap: { 1: ['metadata', 'ObjectMeta'], 2: ['data', { map: 's' }], 3: ['binaryData', { map: 'y' }], 4: ['immutable', 'b?'] },
  Secret: { 1: ['metadata', 'ObjectMeta'], 2: ['data', { map: 'y' }], 3: ['type', 's'], 4: ['stringData', { map: 's' }], 5: ['immutable', 'b?'] },
  Deployment: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'DeploymentSpec'], 3: ['status', 'Status'] },
  DeploymentSpec: {
    1: ['replicas', 'i?'],
    2: ['selector', 'LabelSelector'],
    3: ['template', 'PodTemplateSpec'],
    4: ['strategy', 'DeploymentStrategy'],
    5: ['minReadySeconds', 'i'],
    6: ['revisionHistoryLimit', 'i?'],
    7: ['paused', 'b'],
    9: ['progressDeadlineSeconds', 'i?'],
  },
  DeploymentStrategy: { 1: ['type', 's'] },
  LabelSelector: { 1: ['matchLabels', { map: 's' }], 2: ['matchExpressions', 'LabelSelectorRequirement', 'repeated'] },
  LabelSelectorRequirement: { 1: ['key', 's'], 2: ['operator', 's'], 3: ['values', 's', 'repeated'] },
  PodTemplateSpec: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'PodSpec'] },
  PodSpec: {
    2: ['containers', 'Container', 'repeated'],
    3: ['restartPolicy', 's'],
    4: ['terminationGracePeriodSeconds', 'i?'],
    6: ['dnsPolicy', 's'],
    7: ['nodeSelector', { map: 's' }],
    8: ['serviceAccountName', 's'],
    9: ['serviceAccount', 's'],
    10: ['nodeName', 's'],
    11: ['hostNetwork', 'b'],
    12: ['hostPID', 'b'],
    13: ['hostIPC', 'b'],
    16: ['hostname', 's'],
    17: ['subdomain', 's'],
    19: ['schedulerName', 's'],
    20: ['initContainers', 'Container', 'repeated'],
  },
  Container: {
    1: ['name', 's'],
    2: ['image', 's'],
    3: ['command', 's', 'repeated'],
    4: ['args', 's', 'repeated'],
    5: ['workingDir', 's'],
    6: ['ports', 'ContainerPort', 'repeated'],
    7: ['env', 'EnvVar', 'repeated'],
    8: ['resources', 'ResourceRequirements'],
    13: ['terminationMessagePath', 's'],
    14: ['imagePullPolicy', 's'],
    16: ['stdin', 'b'],
    17: ['stdinOnce', 'b'],
    18: ['tty', 'b'],
    20: ['terminationMessagePolicy', 's'],
  },
  ContainerPort: { 1: ['name', 's'], 2: ['hostPort', 'i'], 3: ['containerPort', 'i'], 4: ['protocol', 's'], 5: ['hostIP', 's'] },
  EnvVar: { 1: ['name', 's'], 2: ['value', 's'] },
  Service: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'ServiceSpec'], 3: ['status', 'Status'] },
  ServiceSpec: {
    1: ['ports', 'ServicePort', 'repeated'],
    2: ['selector', { map: 's' }],
    3: ['clusterIP', 's'],
    4: ['type', 's'],
    5: ['externalIPs', 's', 'repeated'],
    7: ['sessionAffinity', 's'],
    8: ['loadBalancerIP', 's'],
    9: ['loadBalancerSourceRanges', 's', 'repeated'],
    10: ['externalName', 's'],
    11: ['externalTrafficPolicy', 's'],
  },
  ServicePort: { 1: ['name', 's'], 2: ['protocol', 's'], 3: ['port', 'i'], 4: ['targetPort', 'IntOrString'], 5: ['nodePort', 'i'], 6: ['appProtocol', 's'] },
  /** type 0: intVal, type 1: strVal (folded into the number or string JSON has). */
  IntOrString: { 1: ['type', 'i'], 2: ['intVal', 'i?'], 3: ['strVal', 's'] },
  ResourceRequirements: { 1: ['limits', { map: 'quantity' }], 2: ['requests', { map: 'quantity' }] },
  /** Status is written by aks-emu's controllers: only its zero value is taken. */
  Status: {},
};

/** The kinds whose protobuf aks-emu reads, by apiVersion/kind. */
const ROOTS: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Service': 'Service',
  'apps/v1/Deployment': 'Deployment',
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Wire {
  readonly field: number;
  readonly wireType: number;
  /** varint value, or the bytes of a length-delimited field */
  readonly value: bigint | Buffer;
}

function bad(message: string): ApiStatusError {
  return new ApiStatusError('BadRequest', `the protobuf request body could not be decoded: ${message}`);
}

function* fields(buf: Buffer): Generator<Wire> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= buf.length) throw bad('truncated varint');
      const byte = buf[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw bad('varint longer than 10 bytes');
  };
  while (at < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (wireType === 0) yield { field, wireType, value: varint() };
    else if (wireType === 2) {
      const length = Number(varint());
      if (at + length > buf.length) throw bad(`field ${field} is longer than the message`);
      yield { field, wireType, value: buf.subarray(at, at + length) };
      at += length;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (at + size > buf.length) throw bad(`field ${field} is longer than the message`);
      yield { field, wireType, value: buf.subarray(at, at + size) };
      at += size;
    } else throw bad(`wire type ${wireType} of field ${field} is not supported`);
  }
}

function isZero(w: Wire): boolean {
  return typeof w.value === 'bigint' ? w.value === 0n : w.value.every((b) => b === 0) || w.value.length === 0;
}

function scalar(w: Wire, type: Scalar, where: string): unknown {
  const wantVarint = type === 'i' || type === 'i?' || type === 'b' || type === 'b?';
  if (wantVarint !== (typeof w.value === 'bigint')) throw bad(`${where} has wire type ${w.wireType}`);
  switch (type) {
    case 's':
      return (w.value as Buffer).toString('utf8');
    case 'y':
      return (w.value as Buffer).toString('base64');
    case 'i':
    case 'i?':
      return Number(BigInt.asIntN(64, w.value as bigint));
    case 'b':
    case 'b?':
      return w.value !== 0n;
    case 't': {
      const t = message(w.value as Buffer, 'Time', where) as { seconds?: number; nanos?: number };
      return t.seconds ? new Date(t.seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
    }
  }
}

const TIME: Record<number, Field> = { 1: ['seconds', 'i'], 2: ['nanos', 'i'] };
const QUANTITY: Record<number, Field> = { 1: ['string', 's'] };

function message(buf: Buffer, name: string, where: string): Record<string, unknown> {
  const table = name === 'Time' ? TIME : name === 'Quantity' ? QUANTITY : MESSAGES[name];
  if (!table) throw bad(`no table for ${name}`);
  const out: Record<string, unknown> = {};
  for (const w of fields(buf)) {
    const f = table[w.field];
    if (!f) {
      if (isZero(w)) continue;
      throw new ApiStatusError(
        'UnsupportedMediaType',
        `protobuf field ${w.field} of ${name} (${where}) is not decoded by aks-emu; send the object as JSON (kubectl create -f / apply -f)`,
      );
    }
    const [json, type, repeated] = f;
    const path = `${where}.${json}`;
    let value: unknown;
    if (typeof type === 'object') {
      if (!(w.value instanceof Buffer)) throw bad(`${path} is not a map entry`);
      const entry = message(w.value, type.map === 'quantity' ? 'MapEntryQuantity' : `MapEntry:${type.map}`, path);
      const map = (out[json] ??= {}) as Record<string, unknown>;
      map[String(entry['key'] ?? '')] = entry['value'] ?? (type.map === 'y' || type.map === 's' ? '' : undefined);
      continue;
    }
    if (type in MESSAGES || type === 'Time') {
      if (!(w.value instanceof Buffer)) throw bad(`${path} is not a message`);
      const decoded = message(w.value, type, path);
      value = type !== 'IntOrString' ? decoded : decoded['type'] === 1 ? (decoded['strVal'] ?? '') : (decoded['intVal'] ?? 0);
    } else {
      value = scalar(w, type as Scalar, path);
      const keepZero = type.endsWith('?') || repeated;
      if (!keepZero && (value === '' || value === 0 || value === false || value === undefined)) continue;
    }
    if (repeated) ((out[json] ??= []) as unknown[]).push(value);
    else out[json] = value;
  }
  return out;
}

// Map entries: key 1, value 2.
for (const v of ['s', 'y'] as const) MESSAGES[`MapEntry:${v}`] = { 1: ['key', 's'], 2: ['value', v] };
MESSAGES['Quantity'] = QUANTITY;
MESSAGES['MapEntryQuantity'] = { 1: ['key', 's'], 2: ['value', 'Quantity'] };

/** Quantities decode as {string}; JSON has the string itself. */
function flattenQuantities(o: Record<string, unknown>): void {
  for (const v of Object.values(o)) {
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) v.forEach((x) => typeof x === 'object' && x !== null && flattenQuantities(x as Record<string, unknown>));
    else flattenQuantities(v as Record<string, unknown>);
  }
  for (const key of ['limits', 'requests']) {
    const m = o[key] as Record<string, { string?: string }> | undefined;
    if (m && typeof m === 'object') o[key] = Object.fromEntries(Object.entries(m).map(([k, q]) => [k, typeof q === 'object' ? (q.string ?? '') : q]));
  }
}

/** The JSON object of a protobuf-encoded request body. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw bad('the body does not start with the Kubernetes protobuf magic "k8s\\0"');
  let typeMeta: { apiVersion?: string; kind?: string } = {};
  let raw: Buffer | undefined;
  for (const w of fields(body.subarray(4))) {
    if (w.field === 1 && w.value instanceof Buffer) {
      for (const t of fields(w.value))
        if (t.value instanceof Buffer) typeMeta = { ...typeMeta, [t.field === 1 ? 'apiVersion' : 'kind']: t.value.toString('utf8') };
    } else if (w.field === 2 && w.value instanceof Buffer) raw = w.value;
    else if (w.field === 3 && w.value instanceof Buffer && w.value.length > 0)
      throw new ApiStatusError('UnsupportedMediaType', `protobuf content encoding ${JSON.stringify(w.value.toString('utf8'))} is not supported`);
  }
  const { apiVersion = '', kind = '' } = typeMeta;
  const root = ROOTS[`${apiVersion}/${kind}`];
  if (!root)
    throw new ApiStatusError(
      'UnsupportedMediaType',
      `aks-emu reads protobuf only for ${Object.keys(ROOTS).join(', ')}, not ${apiVersion}/${kind}; send the object as JSON (kubectl create -f / apply -f)`,
    );
  const object = message(raw ?? Buffer.alloc(0), root, kind);
  flattenQuantities(object);
  if (object['status'] && Object.keys(object['status']).length === 0) delete object['status'];
  return { apiVersion, kind, ...object };
}
