/**
 * CoreDNS's answers (kubernetes plugin, `pods insecure` as on AKS), computed from a snapshot:
 *  - `svc.ns.svc.cluster.local` → the ClusterIP (headless: the ready pod IPs);
 *  - `host.svc.ns.svc.cluster.local` → the pod whose spec.hostname is `host` and
 *    spec.subdomain is `svc` (a StatefulSet's pods: `mongo-0.mongo...`), behind a headless
 *    Service `svc`; an endpoint without a hostname answers as its dashed IP `10-244-1-5`;
 *  - `a-b-c-d.ns.pod.cluster.local` → a.b.c.d.
 * Short names are tried along a pod's resolv.conf search list (`ns.svc.cluster.local
 * svc.cluster.local cluster.local`, ndots 5), so `svc`, `svc.ns`, `svc.ns.svc`,
 * `host.svc` and `host.svc.ns` resolve as they do in a pod.
 */
import type { PodInfo, ServiceInfo, Snapshot } from './snapshot.js';
import { AksEmuError } from '../errors/index.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** resolv.conf's `options ndots:5` in a pod: a name with fewer dots goes through the search list first. */
const NDOTS = 5;
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** One absolute name's answer: addresses, or why there are none (ranked: a Service that exists but cannot answer says the most). */
type Lookup =
  | { readonly found: true; readonly addresses: readonly string[] }
  | { readonly found: false; readonly rank: 0 | 1 | 2; readonly reason: string }
  | { readonly found: false; readonly rank: 3 };

const NO_SHAPE: Lookup = { found: false, rank: 3 };

function missing(rank: 0 | 1 | 2, reason: string): Lookup {
  return { found: false, rank, reason };
}

/** The pod IPs a headless Service's DNS answers with, with the pods behind them. */
function headlessEndpoints(snapshot: Snapshot, service: ServiceInfo): { ip: string; pod?: PodInfo }[] {
  const pods = new Map(snapshot.pods.filter((p) => p.namespace === service.namespace).map((p) => [p.name, p]));
  const eps = snapshot.endpoints.find((e) => e.serviceKey === `${service.namespace}/${service.name}`);
  const fromSlices = eps?.ports.flatMap((p) => p.usable) ?? [];
  const seen = new Set<string>();
  const out: { ip: string; pod?: PodInfo }[] = [];
  for (const e of fromSlices) {
    if (seen.has(e.ip)) continue;
    seen.add(e.ip);
    const pod = e.podName === undefined ? undefined : pods.get(e.podName);
    out.push(pod === undefined ? { ip: e.ip } : { ip: e.ip, pod });
  }
  if (out.length > 0 || service.ports.length > 0 || service.selector === undefined) return out;
  // A headless Service without ports has endpoints with no ports: its ready selected pods.
  const selector = service.selector;
  return [...pods.values()]
    .filter((p) => p.phase === 'Running' && (p.ready || service.publishNotReadyAddresses))
    .filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v))
    .map((p) => ({ ip: p.ip, pod: p }));
}

/**
 * The label an endpoint answers under in a headless Service's zone: the pod's hostname when
 * its subdomain names the Service (the endpoints controller sets the endpoint's hostname
 * then), else CoreDNS's dashed form of the IP.
 */
function endpointHostname(e: { ip: string; pod?: PodInfo }, service: string): string {
  return e.pod?.hostname !== undefined && e.pod.subdomain === service ? e.pod.hostname : e.ip.replaceAll('.', '-');
}

function serviceRecord(snapshot: Snapshot, svc: string, ns: string, fqdn: string): Lookup {
  const service = snapshot.services.find((s) => s.name === svc && s.namespace === ns);
  if (!service) return missing(1, `no Service "${svc}" in namespace "${ns}"`);
  if (service.type === 'ExternalName') return missing(0, `${fqdn} is a CNAME for ${service.externalName}, outside the emulated cluster`);
  if (service.clusterIP !== 'None') return { found: true, addresses: [service.clusterIP] };
  const ips = headlessEndpoints(snapshot, service).map((e) => e.ip);
  if (ips.length === 0) return missing(0, `headless Service "${svc}" in namespace "${ns}" has no ready endpoints`);
  return { found: true, addresses: ips };
}

function podRecord(snapshot: Snapshot, host: string, svc: string, ns: string): Lookup {
  const service = snapshot.services.find((s) => s.name === svc && s.namespace === ns);
  if (!service) return missing(2, `no Service "${svc}" in namespace "${ns}" for the pod name "${host}"`);
  if (service.clusterIP !== 'None') {
    return missing(0, `Service "${svc}" in namespace "${ns}" is not headless: only a headless Service (clusterIP: None) gives its pods DNS names`);
  }
  for (const e of headlessEndpoints(snapshot, service)) {
    if (endpointHostname(e, svc) === host) return { found: true, addresses: [e.ip] };
  }
  const pod = snapshot.pods.find((p) => p.namespace === ns && p.hostname === host && p.subdomain === svc);
  if (pod !== undefined) return missing(0, `pod "${pod.name}" behind headless Service "${svc}" in namespace "${ns}" is not ready`);
  return missing(0, `no pod with hostname "${host}" and subdomain "${svc}" behind headless Service "${svc}" in namespace "${ns}"`);
}

/** One absolute name (no search list) in the cluster domain. */
function lookupAbsolute(snapshot: Snapshot, fqdn: string): Lookup {
  const suffix = `.${CLUSTER_DOMAIN}`;
  if (!fqdn.endsWith(suffix)) return NO_SHAPE;
  const labels = fqdn.slice(0, -suffix.length).split('.');
  const [a, b, c, d] = labels;
  if (labels.length === 3 && c === 'svc') return serviceRecord(snapshot, a!, b!, fqdn);
  if (labels.length === 4 && d === 'svc') return podRecord(snapshot, a!, b!, c!);
  if (labels.length === 3 && c === 'pod' && /^\d+-\d+-\d+-\d+$/.test(a!)) return { found: true, addresses: [a!.replaceAll('-', '.')] };
  return NO_SHAPE;
}

/** The names a pod's resolver tries for `name`, in its order (resolv.conf search list and ndots). */
export function searchCandidates(name: string, namespace: string): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const searched = [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN].map((domain) => `${name}.${domain}`);
  const dots = name.split('.').length - 1;
  return dots >= NDOTS ? [name, ...searched] : [...searched, name];
}

/**
 * The addresses a pod in `namespace` gets for `host`, or an AKS_EMU_NOT_FOUND error that
 * says why, in curl's words (`Could not resolve host: web (no Service "web" in namespace "default")`).
 */
export function resolveServiceName(snapshot: Snapshot, host: string, namespace: string): string[] {
  const name = host.toLowerCase();
  if (IPV4.test(name)) return [name];
  let best: Extract<Lookup, { rank: 0 | 1 | 2 }> | undefined;
  for (const candidate of searchCandidates(name, namespace)) {
    const answer = lookupAbsolute(snapshot, candidate);
    if (answer.found) return [...answer.addresses];
    if (answer.rank !== 3 && (best === undefined || answer.rank < best.rank)) best = answer;
  }
  const why = best === undefined ? 'not a name in the cluster domain' : best.reason;
  throw new AksEmuError('AKS_EMU_NOT_FOUND', `Could not resolve host: ${host.replace(/\.$/, '')} (${why})`);
}

/** One name cluster DNS answers, relative to its namespace's `ns.svc.cluster.local`: a Service (`web`) or a pod (`mongo-0.mongo`). */
export interface DnsRecord {
  readonly namespace: string;
  readonly relative: string;
  readonly address: string;
  readonly kind: 'service' | 'pod';
}

/**
 * Every Service and per-pod name with one address (a headless Service: its first ready
 * pod), for resolvers that keep a table rather than ask (the Node.js preload of process pods).
 */
export function clusterRecords(snapshot: Snapshot): DnsRecord[] {
  const records: DnsRecord[] = [];
  for (const service of snapshot.services) {
    const { namespace, name } = service;
    if (service.type === 'ExternalName' || service.clusterIP === '') continue;
    if (service.clusterIP !== 'None') {
      records.push({ namespace, relative: name, address: service.clusterIP, kind: 'service' });
      continue;
    }
    const endpoints = headlessEndpoints(snapshot, service);
    const first = endpoints[0];
    if (first !== undefined) records.push({ namespace, relative: name, address: first.ip, kind: 'service' });
    for (const e of endpoints) {
      records.push({ namespace, relative: `${endpointHostname(e, name)}.${name}`, address: e.ip, kind: 'pod' });
    }
  }
  return records;
}
