/**
 * CoreDNS's answers for Service names, computed from a snapshot: `svc`, `svc.ns`,
 * `svc.ns.svc`, `svc.ns.svc.cluster.local` → the ClusterIP (headless: the ready pod IPs).
 */
import type { Snapshot } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';

export const CLUSTER_DOMAIN = 'cluster.local';

/** The search path of a pod in `namespace` (resolv.conf: ns.svc.cluster.local svc.cluster.local cluster.local). */
export function resolveServiceName(snapshot: Snapshot, host: string, namespace: string): string[] {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return [name];
  const labels = name.split('.');
  let svc: string | undefined;
  let ns: string | undefined;
  if (labels.length === 1) [svc, ns] = [labels[0], namespace];
  else if (labels.length === 2 || (labels.length === 3 && labels[2] === 'svc')) [svc, ns] = [labels[0], labels[1]];
  else if (labels.length >= 4 && labels[2] === 'svc' && labels.slice(3).join('.') === CLUSTER_DOMAIN) [svc, ns] = [labels[0], labels[1]];
  const service = snapshot.services.find((s) => s.name === svc && s.namespace === ns);
  if (!service) throw new AksEmuError('AKS_EMU_NOT_FOUND', `Could not resolve host: ${host} (no Service "${svc}" in namespace "${ns}")`);
  if (service.type === 'ExternalName') {
    throw new AksEmuError('AKS_EMU_NOT_FOUND', `Could not resolve host: ${host} is a CNAME for ${service.externalName}, outside the emulated cluster`);
  }
  if (service.clusterIP !== 'None') return [service.clusterIP];
  const eps = snapshot.endpoints.find((e) => e.serviceKey === `${service.namespace}/${service.name}`);
  const ips = [...new Set(eps?.ports.flatMap((p) => p.usable.map((e) => e.ip)) ?? [])];
  if (ips.length === 0) throw new AksEmuError('AKS_EMU_NOT_FOUND', `Could not resolve host: ${host} (headless Service with no ready endpoints)`);
  return ips;
}
