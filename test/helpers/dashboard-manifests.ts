/**
 * The cluster the dashboard tests draw: a LoadBalancer Service over three echo pods, a
 * ClusterIP Service, an Ingress whose path holds markup (the page must show it as text), and
 * a Gateway with an HTTPRoute to the same Service.
 */
import { gatewayRoute, webApp } from './web-manifests.js';
export const MARKUP_PATH = '/<img src=x onerror=alert(1)>';

export const DASHBOARD_MANIFESTS = `
${webApp({ replicas: 3, image: 'example/web:1', containerPorts: '[{ containerPort: 8080 }]', type: 'LoadBalancer', servicePorts: '[{ name: http, port: 80, targetPort: 8080 }]' })}
---
apiVersion: v1
kind: Service
metadata: { name: web-internal }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations: { nginx.ingress.kubernetes.io/use-regex: "true" }
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: "${MARKUP_PATH}"
            pathType: ImplementationSpecific
            backend: { service: { name: web-internal, port: { number: 80 } } }
---
${gatewayRoute({ gateway: 'gw', route: 'shop-route', host: 'route.example.com', prefix: '/api', service: 'web-internal' })}
`;
