/**
 * v1 Service: defaults of SetDefaults_Service and the checks of ValidateService
 * (kubernetes pkg/apis/core/validation/validation.go), with the API server's wording.
 * Checks that need cluster state (NodePort range and allocation, ClusterIP range) belong
 * to the control plane's allocators.
 */
import type { Service, ServicePort, ServiceSpec, ServiceType, TrafficPolicy } from '../../model/types.js';
import { isCIDRText, isIPAddress } from '../ip.js';
import { validateLabels } from '../meta.js';
import { isAbsent, readBool, readInt, readIntOrString, readObj, readObjList, readString, readStringList, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortNum } from '../validation/names.js';
import { checkPortNumOrName, readProtocol } from './ports.js';
import type { Located } from './located.js';
import { SERVICE_SPEC_DEFAULTS } from '../../model/defaults.js';

const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'] as const;
const TRAFFIC_POLICIES: readonly TrafficPolicy[] = ['Cluster', 'Local'];
const DEFAULT_AFFINITY_TIMEOUT = SERVICE_SPEC_DEFAULTS.sessionAffinityTimeoutSeconds;
const MAX_AFFINITY_TIMEOUT = 86400;
const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

function oneOf<T extends string>(r: Reporter, value: string | undefined, fallback: T, allowed: readonly T[], field: string): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  r.notSupported(field, value, allowed);
  return fallback;
}

function readServicePorts(r: Reporter, spec: Obj, type: ServiceType): ServicePort[] {
  const items = readObjList(r, spec, 'ports', 'spec');
  const names = new Set<string>();
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  const ports: ServicePort[] = [];
  for (const { item, path } of items) {
    const name = readString(r, item, 'name', path) ?? '';
    if (name === '') {
      if (items.length > 1) r.required(`${path}.name`);
    } else {
      r.invalidEach(`${path}.name`, name, isDNS1123Label(name));
      if (names.has(name)) r.duplicate(`${path}.name`, name);
      names.add(name);
    }
    const rawPort = readInt(r, item, 'port', path);
    const port = rawPort ?? 0;
    if (rawPort !== undefined || isAbsent(item, 'port')) r.invalidEach(`${path}.port`, port, isValidPortNum(port));
    const protocol = readProtocol(r, item, path);
    // SetDefaults_Service: an unset (0 or "") targetPort means the same as `port`.
    const rawTarget = readIntOrString(r, item, 'targetPort', path);
    const targetGiven = rawTarget !== undefined && rawTarget !== 0 && rawTarget !== '';
    const targetPort = targetGiven ? rawTarget : port;
    if (targetGiven) checkPortNumOrName(r, targetPort, `${path}.targetPort`);
    const appProtocol = readString(r, item, 'appProtocol', path);
    if (appProtocol !== undefined) r.invalidEach(`${path}.appProtocol`, appProtocol, isQualifiedName(appProtocol));

    const nodePort = readInt(r, item, 'nodePort', path) || undefined;
    if (nodePort !== undefined) {
      // The NodePort range (30000-32767) is the allocator's business; a value that is not a port at all is ours.
      r.invalidEach(`${path}.nodePort`, nodePort, isValidPortNum(nodePort));
      if (type === 'ClusterIP') r.forbidden(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'");
      const key = `${protocol}/${nodePort}`;
      if (seenNodePorts.has(key)) r.duplicate(`${path}.nodePort`, nodePort);
      seenNodePorts.add(key);
    }
    const key = `${protocol}/${port}`;
    if (port > 0 && seenPorts.has(key)) r.duplicate(path, { port, protocol });
    seenPorts.add(key);

    ports.push({ name, protocol, port, targetPort, ...(nodePort !== undefined && { nodePort }), ...(appProtocol !== undefined && { appProtocol }) });
  }
  return ports;
}

function readClusterIP(r: Reporter, spec: Obj, type: ServiceType): string | undefined {
  // The API server mirrors clusterIP into clusterIPs and reports against clusterIPs.
  const clusterIP = readString(r, spec, 'clusterIP', 'spec') || readStringList(r, spec, 'clusterIPs', 'spec')[0] || undefined;
  if (clusterIP === undefined) return undefined;
  if (type === 'ExternalName') {
    r.forbidden('spec.clusterIPs', 'may not be set for ExternalName services');
    return undefined;
  }
  if (clusterIP === 'None') {
    if (type === 'LoadBalancer' || type === 'NodePort') {
      r.invalid('spec.clusterIPs[0]', clusterIP, `may not be set to 'None' for ${type} services`);
    }
    return clusterIP;
  }
  if (!isIPAddress(clusterIP)) r.invalid('spec.clusterIPs[0]', clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  return clusterIP;
}

function readAffinity(r: Reporter, spec: Obj): { sessionAffinity: 'None' | 'ClientIP'; timeout: number } {
  const sessionAffinity = oneOf(r, readString(r, spec, 'sessionAffinity', 'spec'), 'None', AFFINITIES, 'spec.sessionAffinity');
  const config = readObj(r, spec, 'sessionAffinityConfig', 'spec');
  if (sessionAffinity === 'None') {
    if (config !== undefined) r.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None');
    return { sessionAffinity, timeout: DEFAULT_AFFINITY_TIMEOUT };
  }
  const clientIP = config && readObj(r, config, 'clientIP', 'spec.sessionAffinityConfig');
  const timeout = (clientIP && readInt(r, clientIP, 'timeoutSeconds', 'spec.sessionAffinityConfig.clientIP')) ?? DEFAULT_AFFINITY_TIMEOUT;
  if (timeout <= 0 || timeout > MAX_AFFINITY_TIMEOUT) {
    r.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${MAX_AFFINITY_TIMEOUT}`);
  }
  return { sessionAffinity, timeout };
}

function readSourceRanges(r: Reporter, spec: Obj, type: ServiceType, annotations: Readonly<Record<string, string>>): string[] {
  const fromSpec = readStringList(r, spec, 'loadBalancerSourceRanges', 'spec');
  const annotation = annotations[SOURCE_RANGES_ANNOTATION];
  // validation.go really names the field `spec.LoadBalancerSourceRanges` (capital L).
  const field = fromSpec.length > 0 ? 'spec.LoadBalancerSourceRanges' : `metadata.annotations.${SOURCE_RANGES_ANNOTATION}`;
  if (fromSpec.length === 0 && annotation === undefined) return [];
  if (type !== 'LoadBalancer') r.forbidden(field, "may only be used when `type` is 'LoadBalancer'");
  // The annotation is the older spelling of the field; kube-proxy and the cloud provider fall back to it.
  const ranges =
    fromSpec.length > 0
      ? fromSpec.map((s) => s.trim())
      : (annotation ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  ranges.forEach((cidr, i) => {
    if (!isCIDRText(cidr)) {
      r.invalid(fromSpec.length > 0 ? `${field}[${i}]` : field, cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)');
    }
  });
  return ranges;
}

function readTrafficPolicies(r: Reporter, spec: Obj, type: ServiceType, externalIPs: readonly string[]) {
  // apiservice.ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with external IPs.
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && externalIPs.length > 0);
  const etpRaw = readString(r, spec, 'externalTrafficPolicy', 'spec');
  let externalTrafficPolicy: TrafficPolicy = 'Cluster';
  if (!externallyAccessible) {
    if (etpRaw) r.invalid('spec.externalTrafficPolicy', etpRaw, 'may only be set for externally-accessible services');
  } else {
    externalTrafficPolicy = oneOf(r, etpRaw, 'Cluster', TRAFFIC_POLICIES, 'spec.externalTrafficPolicy');
  }
  const internalTrafficPolicy = oneOf(r, readString(r, spec, 'internalTrafficPolicy', 'spec'), 'Cluster', TRAFFIC_POLICIES, 'spec.internalTrafficPolicy');

  const healthCheckNodePort = readInt(r, spec, 'healthCheckNodePort', 'spec') || undefined;
  if (healthCheckNodePort !== undefined) {
    if (type !== 'LoadBalancer' || externalTrafficPolicy !== 'Local') {
      r.invalid('spec.healthCheckNodePort', healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    } else {
      r.invalidEach('spec.healthCheckNodePort', healthCheckNodePort, isValidPortNum(healthCheckNodePort));
    }
  }
  return { externalTrafficPolicy, internalTrafficPolicy, healthCheckNodePort };
}

function readLoadBalancerFields(r: Reporter, spec: Obj, type: ServiceType) {
  const allocate = readBool(r, spec, 'allocateLoadBalancerNodePorts', 'spec');
  if (allocate !== undefined && type !== 'LoadBalancer') {
    r.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'");
  }
  const loadBalancerClass = readString(r, spec, 'loadBalancerClass', 'spec');
  if (loadBalancerClass !== undefined) {
    if (type !== 'LoadBalancer') r.forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'");
    else r.invalidEach('spec.loadBalancerClass', loadBalancerClass, isQualifiedName(loadBalancerClass));
  }
  const loadBalancerIP = readString(r, spec, 'loadBalancerIP', 'spec') || undefined;
  return {
    allocateLoadBalancerNodePorts: allocate ?? true,
    ...(loadBalancerClass !== undefined && { loadBalancerClass }),
    ...(loadBalancerIP !== undefined && { loadBalancerIP }),
  };
}

function readExternalName(r: Reporter, spec: Obj, type: ServiceType): string | undefined {
  const externalName = readString(r, spec, 'externalName', 'spec');
  if (type !== 'ExternalName') return undefined;
  // A trailing dot marks the CNAME as fully qualified.
  const cname = (externalName ?? '').replace(/\.$/, '');
  if (cname === '') r.required('spec.externalName');
  else r.invalidEach('spec.externalName', cname, isDNS1123Subdomain(cname));
  return externalName;
}

export function readService(r: Reporter, object: Obj, located: Located): Service {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const type = oneOf(r, readString(r, spec, 'type', 'spec'), 'ClusterIP', SERVICE_TYPES, 'spec.type');
  const clusterIP = readClusterIP(r, spec, type);
  const externalName = readExternalName(r, spec, type);
  const ports = readServicePorts(r, spec, type);
  if (ports.length === 0 && clusterIP !== 'None' && type !== 'ExternalName') r.required('spec.ports');

  const rawSelector = readStringMap(r, spec, 'selector', 'spec');
  if (rawSelector !== undefined) validateLabels(r, rawSelector, 'spec.selector');
  // An empty selector is stored as none: the Service gets no managed endpoints.
  const selector = rawSelector !== undefined && Object.keys(rawSelector).length > 0 ? rawSelector : undefined;

  const externalIPs = readStringList(r, spec, 'externalIPs', 'spec');
  externalIPs.forEach((ip, i) => {
    if (!isIPAddress(ip)) r.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  });

  const { sessionAffinity, timeout } = readAffinity(r, spec);
  const { externalTrafficPolicy, internalTrafficPolicy, healthCheckNodePort } = readTrafficPolicies(r, spec, type, externalIPs);
  const result: ServiceSpec = {
    type,
    ...(clusterIP !== undefined && { clusterIP }),
    ports,
    ...(selector !== undefined && { selector }),
    sessionAffinity,
    sessionAffinityTimeoutSeconds: timeout,
    externalTrafficPolicy,
    internalTrafficPolicy,
    ...(healthCheckNodePort !== undefined && { healthCheckNodePort }),
    loadBalancerSourceRanges: readSourceRanges(r, spec, type, located.metadata.annotations),
    ...readLoadBalancerFields(r, spec, type),
    publishNotReadyAddresses: readBool(r, spec, 'publishNotReadyAddresses', 'spec') ?? false,
    ...(externalName !== undefined && { externalName }),
  };
  return { kind: 'Service', ...located, spec: result };
}
