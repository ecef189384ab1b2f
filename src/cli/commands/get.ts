import { adminRequest, serverUrl } from '../admin-client.js';
import { parseCommand, usageError } from '../args.js';
import { printEndpointSlices, printIngresses, printLoadBalancers, printNodes, printPods, printServices } from '../printers.js';
import { printGatewayClasses, printGateways, printRoutes } from '../gateway-printers.js';
import { printNetworkPolicies } from '../netpol-printers.js';
import { pendingReasonLines, serviceEvents } from '../service-reasons.js';

export const getHelp = `Show objects of a running emulator, as kubectl get shows them.

Usage: aks-emu get svc|pods|nodes|endpointslices|ingress|netpol|lb|gateway|httproute [NAME] [-n NS | -A] [-o wide|json] [--server HOST:PORT]

Resources: services (svc), pods (po), nodes (no), endpointslices, ingresses (ing), networkpolicies (netpol), loadbalancers (lb),
           gatewayclasses (gc), gateways (gtw), httproutes, grpcroutes, tcproutes, tlsroutes, referencegrants (refgrant)`;

type Resource =
  | 'services'
  | 'pods'
  | 'nodes'
  | 'endpointslices'
  | 'ingresses'
  | 'networkpolicies'
  | 'loadbalancers'
  | 'gatewayclasses'
  | 'gateways'
  | 'httproutes'
  | 'grpcroutes'
  | 'tcproutes'
  | 'tlsroutes'
  | 'referencegrants';

const RESOURCES: Record<string, Resource> = {
  gc: 'gatewayclasses',
  gatewayclass: 'gatewayclasses',
  gatewayclasses: 'gatewayclasses',
  gtw: 'gateways',
  gateway: 'gateways',
  gateways: 'gateways',
  httproute: 'httproutes',
  httproutes: 'httproutes',
  grpcroute: 'grpcroutes',
  grpcroutes: 'grpcroutes',
  tcproute: 'tcproutes',
  tcproutes: 'tcproutes',
  tlsroute: 'tlsroutes',
  tlsroutes: 'tlsroutes',
  refgrant: 'referencegrants',
  referencegrant: 'referencegrants',
  referencegrants: 'referencegrants',
  netpol: 'networkpolicies',
  networkpolicy: 'networkpolicies',
  networkpolicies: 'networkpolicies',
  ing: 'ingresses',
  ingress: 'ingresses',
  ingresses: 'ingresses',
  svc: 'services',
  service: 'services',
  services: 'services',
  po: 'pods',
  pod: 'pods',
  pods: 'pods',
  no: 'nodes',
  node: 'nodes',
  nodes: 'nodes',
  endpointslice: 'endpointslices',
  endpointslices: 'endpointslices',
  lb: 'loadbalancers',
  loadbalancer: 'loadbalancers',
  loadbalancers: 'loadbalancers',
};

/* eslint-disable @typescript-eslint/no-explicit-any -- API JSON */
export async function get(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommand('get', argv, {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    output: { type: 'string', short: 'o' },
    server: { type: 'string' },
  });
  if (values.help) {
    out(getHelp);
    return 0;
  }
  const [what, name, extra] = positionals;
  if (!what) throw usageError('get', 'name a resource type: svc, pods, nodes, endpointslices, ingress, lb, gateway or httproute');
  if (extra) throw usageError('get', `unexpected argument "${extra}"`);
  const resource = RESOURCES[what.toLowerCase()];
  if (!resource) throw usageError('get', `the server doesn't have a resource type "${what}"`);
  const output = values.output;
  if (output !== undefined && output !== 'wide' && output !== 'json') throw usageError('get', `invalid value "${output}" for flag -o: must be wide or json`);
  const all = Boolean(values['all-namespaces']);
  const ns = values.namespace ?? 'default';
  const server = serverUrl(values.server);
  const namespaced = all ? '' : `/namespaces/${encodeURIComponent(ns)}`;
  const path = {
    services: `/api/v1${namespaced}/services`,
    pods: `/api/v1${namespaced}/pods`,
    nodes: '/api/v1/nodes',
    endpointslices: `/apis/discovery.k8s.io/v1${namespaced}/endpointslices`,
    ingresses: `/apis/networking.k8s.io/v1${namespaced}/ingresses`,
    networkpolicies: `/apis/networking.k8s.io/v1${namespaced}/networkpolicies`,
    loadbalancers: '/aks-emu/v1/loadbalancers',
    gatewayclasses: '/apis/gateway.networking.k8s.io/v1/gatewayclasses',
    gateways: `/apis/gateway.networking.k8s.io/v1${namespaced}/gateways`,
    httproutes: `/apis/gateway.networking.k8s.io/v1${namespaced}/httproutes`,
    grpcroutes: `/apis/gateway.networking.k8s.io/v1${namespaced}/grpcroutes`,
    tcproutes: `/apis/gateway.networking.k8s.io/v1alpha2${namespaced}/tcproutes`,
    tlsroutes: `/apis/gateway.networking.k8s.io/v1alpha2${namespaced}/tlsroutes`,
    referencegrants: `/apis/gateway.networking.k8s.io/v1beta1${namespaced}/referencegrants`,
  }[resource];
  let list = (await adminRequest(
    server,
    name && resource !== 'endpointslices' && resource !== 'loadbalancers' ? `${path}/${encodeURIComponent(name)}` : path,
  )) as any;
  if (name && (resource === 'endpointslices' || resource === 'loadbalancers')) {
    const items = list.items.filter((i: any) => (i.metadata?.name ?? i.name) === name);
    if (items.length === 0) throw usageError('get', `${resource} "${name}" not found`);
    list = { ...list, items };
  }
  if (list.kind && !list.kind.endsWith('List')) list = { kind: `${list.kind}List`, apiVersion: list.apiVersion, items: [list] };
  if (output === 'json') {
    out(JSON.stringify(name && list.items.length === 1 ? list.items[0] : list, null, 2));
    return 0;
  }
  const wide = output === 'wide';
  const table = {
    services: () => printServices(list, all, wide),
    pods: () => printPods(list, all, wide),
    nodes: () => printNodes(list, wide),
    endpointslices: () => printEndpointSlices(list, all),
    ingresses: () => printIngresses(list, all),
    networkpolicies: () => printNetworkPolicies(list, all),
    loadbalancers: () => printLoadBalancers(list, wide),
    gatewayclasses: () => printGatewayClasses(list),
    gateways: () => printGateways(list, all, wide),
    httproutes: () => printRoutes(list, all, wide),
    grpcroutes: () => printRoutes(list, all, wide),
    tcproutes: () => printRoutes(list, all, wide),
    tlsroutes: () => printRoutes(list, all, wide),
    referencegrants: () => printRoutes(list, all, false),
  }[resource]();
  out(table === 'No resources found' && !all ? `No resources found in ${ns} namespace.` : table);
  if (resource === 'services' && list.items.some((s: any) => s.spec?.type === 'LoadBalancer' && !s.status?.loadBalancer?.ingress?.length)) {
    const reasons = pendingReasonLines(list.items, await serviceEvents((p) => adminRequest(server, p), all ? undefined : ns));
    if (reasons.length > 0) out(['', ...reasons].join('\n'));
  }
  return 0;
}
