/**
 * The smallest workload most hardening tests need: a Deployment of echo pods and one
 * Service in front of them (LoadBalancer by default), as YAML text.
 */
export function webManifests(options: { replicas?: number; type?: 'LoadBalancer' | 'NodePort'; ports?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${options.replicas ?? 2}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web, ports: [{ containerPort: 8080 }, { name: tcp-echo, containerPort: 9000 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: ${options.type ?? 'LoadBalancer'}
  selector: { app: web }
  ports: ${options.ports ?? '[{ name: http, port: 80, targetPort: 8080 }]'}
`;
}
