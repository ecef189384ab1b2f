/**
 * The workload the fault integration tests share: three echo pods behind a LoadBalancer
 * Service (HTTP on 80, a TCP echo on 9000) and an Ingress for web.example.com; and the
 * small clients they use.
 */
import { request, type Agent } from 'node:http';
import { httpGet } from './net.js';
import { HTTP_AND_ECHO_PORTS, HTTP_AND_ECHO_SERVICE_PORTS, webApp } from './web-manifests.js';

export const FAULT_MANIFESTS = `
${webApp({ replicas: 3, image: 'example/web:1', containerPorts: HTTP_AND_ECHO_PORTS, type: 'LoadBalancer', servicePorts: HTTP_AND_ECHO_SERVICE_PORTS })}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  ingressClassName: nginx
  rules:
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
`;

/** One request on `agent`'s connection. */
export function getWith(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** How a fresh connection's HTTP request ended: its status, or the error code. */
export async function outcome(url: string, headers: Record<string, string> = {}, timeoutMs?: number): Promise<string> {
  try {
    return String((await httpGet(url, { headers, ...(timeoutMs === undefined ? {} : { timeoutMs }) })).status);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}
