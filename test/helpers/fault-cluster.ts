/**
 * The workload the fault integration tests share: three echo pods behind a LoadBalancer
 * Service (HTTP on 80, a TCP echo on 9000) and an Ingress for web.example.com; and the
 * small clients they use.
 */
import { request, type Agent } from 'node:http';
import { httpGet } from './net.js';

export const FAULT_MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: example/web:1
          ports: [{ name: http, containerPort: 8080 }, { name: tcp-echo, containerPort: 9000 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports:
    - { name: http, port: 80, targetPort: http }
    - { name: tcp-echo, port: 9000, targetPort: 9000 }
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
