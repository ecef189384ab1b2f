/**
 * What the Azure LB's HTTP health probes of the controller's Service meet inside the
 * controller, said once at start-up and derived from the same tables the data plane uses,
 * so the notice and the probe results (`aks-emu get lb`) cannot disagree.
 *
 * ingress-nginx answers cloud load balancers' health checks on its HTTP port: the `_`
 * (default) server has a plain `location /healthz { return 200; }` (nginx.tmpl), besides
 * the controller's own /healthz on port 10254 that the pods' readiness probe uses. With
 * `externalTrafficPolicy: Cluster` and appProtocol http (the chart's defaults),
 * cloud-provider-azure probes each node's NodePort over HTTP on the Service's
 * `azure-load-balancer-health-probe-request-path` (default `/`), which kube-proxy hands
 * to a controller pod's port 80, so that location answers. Two things change the answer:
 *
 * - a host-less Ingress with use-regex or rewrite-target puts the `_` server in regex mode
 *   (kubernetes/ingress-nginx#8852): nginx tries regex locations before a plain prefix
 *   location, and every location, the default backend's `/` included, becomes
 *   `~* "^<path>"`, so `^/` takes /healthz to the default backend (404: probes fail), or a
 *   longer regex such as the AKS tutorial's `/(.*)` takes it to that Ingress's Service
 *   (probes pass only while it answers 200);
 * - without the probe-path annotation, the probe asks for `/`, which is the default
 *   backend's 404 unless an Ingress serves `/` without a host.
 *
 * With `externalTrafficPolicy: Local` the probes go to kube-proxy's healthCheckNodePort,
 * never to the controller: nothing to say.
 */
import type { LoadBalancerProbe, Snapshot } from '../snapshot.js';
import type { ControllerChart } from './controller-manifests.js';
import { selectsControllerPods } from './controller-takeover.js';
import { PathMatcher } from './path-match.js';
import { DEFAULT_SERVER_NAME, type IngressConfig, type LocationConfig } from './types.js';

/** Where the default server sends a probe's path, as ingress-nginx would. */
export type ProbeRoute =
  | { readonly kind: 'healthz' }
  | { readonly kind: 'default-backend'; readonly how: string; readonly location?: LocationConfig }
  | { readonly kind: 'redirect'; readonly status: number; readonly location: LocationConfig }
  | { readonly kind: 'denied'; readonly location: LocationConfig }
  | { readonly kind: 'service'; readonly how: string; readonly location: LocationConfig; readonly upstream: string };

const HEALTHZ = '/healthz';

/** The default server's answer to `GET path` without a matching Host, over plain HTTP. */
export function routeProbePath(config: IngressConfig, path: string): ProbeRoute {
  const server = config.servers.find((s) => s.hostname === DEFAULT_SERVER_NAME);
  if (!server) return { kind: 'default-backend', how: 'no default server' };
  if (server.appRoot && path === '/') return { kind: 'redirect', status: 302, location: server.locations[0]! };
  const rules = server.locations.map((loc) => ({ path: loc.path, pathType: loc.pathType, target: loc as LocationConfig | undefined }));
  const matcher = new PathMatcher(rules, server.regexBy.length > 0, [{ key: HEALTHZ, target: undefined }]);
  const match = matcher.match(path);
  if (!match) return { kind: 'default-backend', how: 'no location matches' };
  const loc = match.target;
  if (!loc) return { kind: 'healthz' };
  if (loc.denied !== undefined) return { kind: 'denied', location: loc };
  if (loc.forceSslRedirect) return { kind: 'redirect', status: 308, location: loc };
  if (loc.upstream === undefined) return { kind: 'default-backend', how: match.how, location: loc };
  return { kind: 'service', how: match.how, location: loc, upstream: loc.upstream };
}

function whose(route: { readonly location?: LocationConfig }): string {
  return route.location?.ingress ? ` of Ingress ${route.location.ingress}` : '';
}

/** What happens to the probe, after "reach the controller's default server, which ...". */
function explainRoute(route: ProbeRoute, config: IngressConfig, path: string): string | undefined {
  const server = config.servers.find((s) => s.hostname === DEFAULT_SERVER_NAME);
  const regex = server && server.regexBy.length > 0 ? `; rules without a host are regex locations because of Ingress ${server.regexBy.join(', ')}` : '';
  const down = 'so every node fails the probe and the frontend gets no traffic (as on AKS)';
  switch (route.kind) {
    case 'healthz':
      return undefined;
    case 'default-backend':
      return `sends ${path} to the default backend (matched by ${route.how}${whose(route)}${regex}): 404, ${down}`;
    case 'redirect':
      return `answers ${path} with a ${route.status} redirect${whose(route)}: Azure wants a 200, ${down}`;
    case 'denied':
      return `denies ${path}${whose(route)} with 503, ${down}`;
    case 'service': {
      const ups = config.upstreams.find((u) => u.name === route.upstream);
      const svc = ups ? `Service ${ups.service.namespace}/${ups.service.name}` : `upstream ${route.upstream}`;
      const rewrite = route.location.rewriteTarget !== undefined ? `, rewrite-target ${route.location.rewriteTarget}` : '';
      return `proxies ${path} to ${svc} (matched by ${route.how}${whose(route)}${rewrite}${regex}): a node is up only while that Service answers with 200, not by the controller's own /healthz`;
    }
  }
}

/**
 * One line per Service fronting the controller and probe path whose HTTP probes do not
 * reach the controller's own /healthz answer.
 */
export function healthzProbeNotices(snapshot: Snapshot, config: IngressConfig, chart: ControllerChart): string[] {
  const notices: string[] = [];
  const fronting = snapshot.services.filter((s) => s.namespace === chart.namespace && s.type === 'LoadBalancer' && selectsControllerPods(s.selector, chart));
  for (const svc of fronting) {
    const key = `${svc.namespace}/${svc.name}`;
    const byPath = new Map<string, LoadBalancerProbe[]>();
    for (const lb of snapshot.loadBalancers) {
      for (const rule of lb.rules) {
        if (rule.serviceKey !== key || rule.probeName === undefined) continue;
        const probe = lb.probes.find((p) => p.name === rule.probeName);
        if (!probe || probe.protocol === 'Tcp' || probe.port === svc.healthCheckNodePort) continue;
        const path = probe.requestPath ?? '/';
        const list = byPath.get(path) ?? [];
        if (!list.includes(probe)) list.push(probe);
        byPath.set(path, list);
      }
    }
    for (const [path, probes] of byPath) {
      const why = explainRoute(routeProbePath(config, path.split('?')[0] ?? path), config, path);
      if (why === undefined) continue;
      const how = [...new Set(probes.map((p) => (p.protocol === 'Https' ? 'HTTPS' : 'HTTP')))].sort().join('/');
      const ports = probes
        .map((p) => p.port)
        .sort((a, b) => a - b)
        .join(' and ');
      const hint =
        path === HEALTHZ
          ? 'Give those Ingresses a host, or check with: aks-emu explain ingress --host any --path /healthz'
          : `Set service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path: /healthz on the Service (AKS's ingress guide does), or check with: aks-emu explain ingress --host any --path ${path}`;
      notices.push(
        `Service ${key}: its LB health probes (${how} GET ${path} on each node's NodePort ${ports}) reach the controller's default server, which ${why}. ${hint}`,
      );
    }
  }
  return notices;
}
