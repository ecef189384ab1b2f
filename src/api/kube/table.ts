/**
 * Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` gets a
 * meta.k8s.io/v1 Table with the columns the API server prints for each kind (priority 1
 * columns are the ones `-o wide` adds), so `kubectl get` reads as it does on AKS.
 */
import type { KubeObject } from '../../cluster/store/index.js';

type Json = Record<string, unknown>;
type Cell = string | number;

interface Column {
  readonly name: string;
  readonly type?: 'string' | 'integer' | 'date';
  readonly priority?: 1;
  readonly cell: (o: KubeObject, now: number) => Cell;
}

const get = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const str = (v: unknown, none = '<none>'): string => (v === undefined || v === null || v === '' ? none : String(v));

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  if (y < 8) return `${y}y${Math.floor(h / 24) % 365}d`;
  return `${y}y`;
}

const name: Column = { name: 'Name', cell: (o) => o.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'date',
  cell: (o, now) => (o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>'),
};
const containers = (path: string): Column => ({
  name: 'Containers',
  priority: 1,
  cell: (o) =>
    arr(get(o, path))
      .map((c) => c['name'])
      .join(','),
});
const images = (path: string): Column => ({
  name: 'Images',
  priority: 1,
  cell: (o) =>
    arr(get(o, path))
      .map((c) => c['image'])
      .join(','),
});
const selector: Column = { name: 'Selector', priority: 1, cell: (o) => selectorText(get(o, 'spec.selector')) };

function selectorText(sel: unknown): string {
  if (!sel || typeof sel !== 'object') return '<none>';
  const labels = ((sel as Json)['matchLabels'] ?? sel) as Record<string, string>;
  const text = Object.entries(labels)
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return text || '<none>';
}

function servicePorts(o: KubeObject): string {
  const ports = arr(get(o, 'spec.ports'));
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p['port']}${p['nodePort'] ? `:${p['nodePort']}` : ''}/${p['protocol'] ?? 'TCP'}`).join(',');
}

function externalIP(o: KubeObject): string {
  const type = get(o, 'spec.type');
  if (type === 'ExternalName') return str(get(o, 'spec.externalName'));
  const ips = arr(get(o, 'status.loadBalancer.ingress')).map((i) => i['ip'] ?? i['hostname']);
  if (type === 'LoadBalancer') return ips.length ? ips.join(',') : '<pending>';
  return '<none>';
}

function podStatus(o: KubeObject): string {
  if (o.metadata['deletionTimestamp']) return 'Terminating';
  const statuses = arr(get(o, 'status.containerStatuses'));
  for (const c of statuses) {
    const waiting = get(c, 'state.waiting.reason');
    if (typeof waiting === 'string' && waiting !== '') return waiting;
  }
  return str(get(o, 'status.phase'), 'Unknown');
}

function podReady(o: KubeObject): string {
  const statuses = arr(get(o, 'status.containerStatuses'));
  const total = arr(get(o, 'spec.containers')).length;
  return `${statuses.filter((c) => c['ready'] === true).length}/${total}`;
}

function nodeStatus(o: KubeObject): string {
  const ready = arr(get(o, 'status.conditions')).find((c) => c['type'] === 'Ready');
  const base = ready?.['status'] === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  return get(o, 'spec.unschedulable') === true ? `${base},SchedulingDisabled` : base;
}

function endpointsText(addresses: string[], more: number): string {
  if (addresses.length === 0) return '<none>';
  const shown = addresses.slice(0, 3).join(',');
  return addresses.length + more > 3 ? `${shown} + ${addresses.length + more - 3} more...` : shown;
}

const REPLICA_COLUMNS: readonly Column[] = [
  name,
  { name: 'Desired', type: 'integer', cell: (o) => Number(get(o, 'spec.replicas') ?? 1) },
  { name: 'Current', type: 'integer', cell: (o) => Number(get(o, 'status.replicas') ?? 0) },
  { name: 'Ready', type: 'integer', cell: (o) => Number(get(o, 'status.readyReplicas') ?? 0) },
  age,
  containers('spec.template.spec.containers'),
  images('spec.template.spec.containers'),
  selector,
];

/**
 * A CustomResourceDefinition's printer column: the first value its JSONPath finds (strings as
 * they are, anything else as JSON, as the API server prints `.spec.hostnames`), blank when none.
 */
function crdCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `.status.conditions[?(@.type=="T")].status`. */
const conditionStatus = (o: KubeObject, type: string): unknown => arr(get(o, 'status.conditions')).find((c) => c['type'] === type)?.['status'];

/** The printer columns of the upstream Gateway API CRDs (additionalPrinterColumns). */
const hostnames: readonly Column[] = [name, { name: 'Hostnames', cell: (o) => crdCell(get(o, 'spec.hostnames')) }, age];
const GATEWAY_API_COLUMNS: Record<string, readonly Column[]> = {
  GatewayClass: [
    name,
    { name: 'Controller', cell: (o) => crdCell(get(o, 'spec.controllerName')) },
    { name: 'Accepted', cell: (o) => crdCell(conditionStatus(o, 'Accepted')) },
    age,
    { name: 'Description', priority: 1, cell: (o) => crdCell(get(o, 'spec.description')) },
  ],
  Gateway: [
    name,
    { name: 'Class', cell: (o) => crdCell(get(o, 'spec.gatewayClassName')) },
    { name: 'Address', cell: (o) => crdCell(arr(get(o, 'status.addresses'))[0]?.['value']) },
    { name: 'Programmed', cell: (o) => crdCell(conditionStatus(o, 'Programmed')) },
    age,
  ],
  HTTPRoute: hostnames,
  GRPCRoute: hostnames,
  TLSRoute: hostnames,
};

const COLUMNS: Record<string, readonly Column[]> = {
  ...GATEWAY_API_COLUMNS,
  Service: [
    name,
    { name: 'Type', cell: (o) => str(get(o, 'spec.type'), 'ClusterIP') },
    { name: 'Cluster-IP', cell: (o) => str(get(o, 'spec.clusterIP')) },
    { name: 'External-IP', cell: externalIP },
    { name: 'Port(s)', cell: servicePorts },
    age,
    { name: 'Selector', priority: 1, cell: (o) => selectorText(get(o, 'spec.selector')) },
  ],
  Pod: [
    name,
    { name: 'Ready', cell: podReady },
    { name: 'Status', cell: podStatus },
    { name: 'Restarts', type: 'integer', cell: (o) => arr(get(o, 'status.containerStatuses')).reduce((n, c) => n + Number(c['restartCount'] ?? 0), 0) },
    age,
    { name: 'IP', priority: 1, cell: (o) => str(get(o, 'status.podIP')) },
    { name: 'Node', priority: 1, cell: (o) => str(get(o, 'spec.nodeName')) },
    { name: 'Nominated Node', priority: 1, cell: () => '<none>' },
    { name: 'Readiness Gates', priority: 1, cell: () => '<none>' },
  ],
  Node: [
    name,
    { name: 'Status', cell: nodeStatus },
    { name: 'Roles', cell: () => '<none>' },
    age,
    { name: 'Version', cell: (o) => str(get(o, 'status.nodeInfo.kubeletVersion')) },
    { name: 'Internal-IP', priority: 1, cell: (o) => str(arr(get(o, 'status.addresses')).find((a) => a['type'] === 'InternalIP')?.['address']) },
    { name: 'External-IP', priority: 1, cell: () => '<none>' },
    { name: 'OS-Image', priority: 1, cell: (o) => str(get(o, 'status.nodeInfo.osImage')) },
    { name: 'Kernel-Version', priority: 1, cell: () => '<unknown>' },
    { name: 'Container-Runtime', priority: 1, cell: (o) => str(get(o, 'status.nodeInfo.containerRuntimeVersion')) },
  ],
  Deployment: [
    name,
    { name: 'Ready', cell: (o) => `${Number(get(o, 'status.readyReplicas') ?? 0)}/${Number(get(o, 'spec.replicas') ?? 1)}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => Number(get(o, 'status.updatedReplicas') ?? 0) },
    { name: 'Available', type: 'integer', cell: (o) => Number(get(o, 'status.availableReplicas') ?? 0) },
    age,
    containers('spec.template.spec.containers'),
    images('spec.template.spec.containers'),
    selector,
  ],
  ReplicaSet: REPLICA_COLUMNS,
  // kubectl prints a ReplicationController with a ReplicaSet's columns.
  ReplicationController: REPLICA_COLUMNS,
  StatefulSet: [
    name,
    { name: 'Ready', cell: (o) => `${Number(get(o, 'status.readyReplicas') ?? 0)}/${Number(get(o, 'spec.replicas') ?? 1)}` },
    age,
    containers('spec.template.spec.containers'),
    images('spec.template.spec.containers'),
  ],
  DaemonSet: [
    name,
    { name: 'Desired', type: 'integer', cell: (o) => Number(get(o, 'status.desiredNumberScheduled') ?? 0) },
    { name: 'Current', type: 'integer', cell: (o) => Number(get(o, 'status.currentNumberScheduled') ?? 0) },
    { name: 'Ready', type: 'integer', cell: (o) => Number(get(o, 'status.numberReady') ?? 0) },
    { name: 'Up-to-date', type: 'integer', cell: (o) => Number(get(o, 'status.updatedNumberScheduled') ?? 0) },
    { name: 'Available', type: 'integer', cell: (o) => Number(get(o, 'status.numberAvailable') ?? 0) },
    { name: 'Node Selector', cell: (o) => selectorText(get(o, 'spec.template.spec.nodeSelector')) },
    age,
    containers('spec.template.spec.containers'),
    images('spec.template.spec.containers'),
    selector,
  ],
  Endpoints: [
    name,
    {
      name: 'Endpoints',
      cell: (o) => {
        const subsets = arr(get(o, 'subsets'));
        const list = subsets.flatMap((s) => arr(s['addresses']).flatMap((a) => arr(s['ports']).map((p) => `${a['ip']}:${p['port']}`)));
        return endpointsText(list, 0);
      },
    },
    age,
  ],
  EndpointSlice: [
    name,
    { name: 'AddressType', cell: (o) => str(get(o, 'addressType')) },
    {
      name: 'Ports',
      cell: (o) =>
        arr(get(o, 'ports'))
          .map((p) => str(p['port'], 'unset'))
          .join(',') || '<unset>',
    },
    {
      name: 'Endpoints',
      cell: (o) =>
        endpointsText(
          arr(get(o, 'endpoints')).flatMap((e) => (e['addresses'] as string[]) ?? []),
          0,
        ),
    },
    age,
  ],
  Ingress: [
    name,
    { name: 'Class', cell: (o) => str(get(o, 'spec.ingressClassName')) },
    {
      name: 'Hosts',
      cell: (o) =>
        arr(get(o, 'spec.rules'))
          .map((r) => r['host'] ?? '*')
          .join(',') || '*',
    },
    {
      name: 'Address',
      cell: (o) =>
        arr(get(o, 'status.loadBalancer.ingress'))
          .map((i) => i['ip'])
          .join(','),
    },
    { name: 'Ports', cell: (o) => (arr(get(o, 'spec.tls')).length ? '80, 443' : '80') },
    age,
  ],
  IngressClass: [name, { name: 'Controller', cell: (o) => str(get(o, 'spec.controller')) }, { name: 'Parameters', cell: () => '<none>' }, age],
  NetworkPolicy: [name, { name: 'Pod-Selector', cell: (o) => selectorText(get(o, 'spec.podSelector')) }, age],
  Namespace: [name, { name: 'Status', cell: (o) => str(get(o, 'status.phase'), 'Active') }, age],
  ConfigMap: [
    name,
    {
      name: 'Data',
      type: 'integer',
      cell: (o) => Object.keys((o['data'] as Json | undefined) ?? {}).length + Object.keys((o['binaryData'] as Json | undefined) ?? {}).length,
    },
    age,
  ],
  Secret: [
    name,
    { name: 'Type', cell: (o) => str(o['type'], 'Opaque') },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys((o['data'] as Json | undefined) ?? {}).length },
    age,
  ],
  Event: [
    { name: 'Last Seen', cell: (o, now) => humanDuration(now - Date.parse(String(o['lastTimestamp'] ?? o['eventTime'] ?? o.metadata.creationTimestamp))) },
    { name: 'Type', cell: (o) => str(o['type']) },
    { name: 'Reason', cell: (o) => str(o['reason']) },
    { name: 'Object', cell: (o) => `${String(get(o, 'involvedObject.kind')).toLowerCase()}/${String(get(o, 'involvedObject.name'))}` },
    { name: 'Message', cell: (o) => str(o['message']) },
  ],
};

/** Whether an Accept header asks for a Table (kubectl get does; -o yaml/json does not). */
export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept.split(',')[0] ?? '');
}

export function toTable(kind: string, objects: readonly KubeObject[], resourceVersion: string, includeObject: string | null, now: number) {
  const columns = COLUMNS[kind] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type ?? 'string',
      format: c === name ? 'name' : '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object:
        includeObject === 'Object'
          ? o
          : includeObject === 'None'
            ? undefined
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
