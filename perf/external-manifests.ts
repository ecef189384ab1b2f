/** The cluster side of the external rows: what aks-emu is given to reach the harness's backend process. */
import type { ExternalBackend } from './cluster-types.js';

/** The external Ingress rule's host: the same controller, another rule, another backend. */
export const EXTERNAL_HOST_HEADER = 'external.perf.local';
export const EXTERNAL_NODE_PORT = 30081;

/**
 * Selector-less Services for the harness's own backend process: a LoadBalancer, a NodePort
 * and a ClusterIP Service, each with an EndpointSlice at the process's address, and an
 * Ingress rule (its own host) to the ClusterIP one. Every aks-emu hop up to the process
 * runs: the process is dialled and spliced, as a user's own service would be.
 */
export function externalManifests(backend: ExternalBackend): object[] {
  const ports = [{ name: 'http', port: 80, targetPort: backend.port, protocol: 'TCP' }];
  const services: [string, Record<string, unknown>][] = [
    ['external', { ports }],
    ['external-lb', { type: 'LoadBalancer', ports }],
    ['external-np', { type: 'NodePort', ports: [{ ...ports[0], nodePort: EXTERNAL_NODE_PORT }] }],
  ];
  return [
    ...services.map(([name, spec]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec })),
    ...services.map(([name]) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [backend.host], conditions: { ready: true } }],
      ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
    })),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'external' },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: EXTERNAL_HOST_HEADER,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'external', port: { name: 'http' } } } }] },
          },
        ],
      },
    },
  ];
}
