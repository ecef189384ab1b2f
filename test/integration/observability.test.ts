import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type TraceView } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { parseExposition, total } from '../helpers/exposition.js';
import { connectOutcome, echo, httpGet } from '../helpers/net.js';
import { gatewayRoute, storeRewriteIngress, webApp } from '../helpers/web-manifests.js';

const MANIFESTS = `
${webApp({ replicas: 3, type: 'LoadBalancer', servicePorts: '[{ name: http, port: 80, targetPort: http }]' })}
---
${storeRewriteIngress('web')}
---
${gatewayRoute({ gateway: 'gw', route: 'web-route', host: 'gw.example.com', prefix: '/api', service: 'web' })}
`;

interface Hop {
  readonly hop: string;
  readonly [field: string]: unknown;
}

describe('metrics, traces and the access log follow real traffic', () => {
  let cluster: Cluster;
  let admin: string;

  const scrape = async () => {
    const res = await fetch(`${admin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(23) }, timeScale: 1 / 20 });
    await cluster.waitFor((s) => s.pods.every((p) => p.ready), { what: 'pods to be Ready' });
    await cluster.waitFor((s) => s.gateway?.gatewayStatuses['default/gw']?.conditions.some((c) => c.type === 'Programmed' && c.status === 'True') === true, {
      what: 'Gateway default/gw Programmed',
    });
    for (const node of cluster.nodes) {
      await cluster.waitForProbe(node.name, 'up', { service: 'default/web' });
      await cluster.waitForProbe(node.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' });
    }
    admin = cluster.adminUrl!;
  });
  afterAll(() => cluster?.stop());

  it('serves /metrics that a Prometheus parser and a strict reader of the format both accept', async () => {
    const text = await scrape();
    const families = parsePrometheusTextFormat(text);
    const names = families.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['aks_emu_lb_connections_total', 'aks_emu_lb_probe_up', 'aks_emu_kube_proxy_connection_duration_seconds']));
    expect(families.find((f) => f.name === 'aks_emu_kube_proxy_connection_duration_seconds')?.type).toBe('HISTOGRAM');
    const { types } = parseExposition(text);
    for (const [name, type] of types) {
      expect(name).toMatch(/^aks_emu_/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$|_bytes$/);
    }
    const up = parseExposition(text).samples.filter((s) => s.name === 'aks_emu_lb_probe_up');
    expect(up.length).toBeGreaterThanOrEqual(3);
  });

  it('moves the LB, kube-proxy, endpoint and listener counters with each connection, bytes included', async () => {
    const before = parseExposition(await scrape()).samples;
    const web = cluster.service('web');
    const baseline = cluster.distribution('web');
    const pods = new Set<string>();
    for (let i = 0; i < 6; i++) pods.add((await echo(web.url())).pod);
    // Connections are counted whole when they close; the client has closed them all, the server side follows.
    let after = parseExposition(await scrape()).samples;
    for (let i = 0; i < 50 && total(after, 'aks_emu_lb_open_connections', { service: 'default/web:http' }) > 0; i++) {
      await new Promise((r) => setImmediate(r));
      after = parseExposition(await scrape()).samples;
    }
    const delta = (name: string, where: Record<string, string>) => total(after, name, where) - total(before, name, where);
    const rule = { service: 'default/web:http' };
    expect(delta('aks_emu_lb_connections_total', rule)).toBe(6);
    expect(delta('aks_emu_lb_backend_picks_total', rule)).toBe(6);
    expect(delta('aks_emu_lb_connection_duration_seconds_count', rule)).toBe(6);
    expect(delta('aks_emu_lb_receive_bytes_total', rule)).toBeGreaterThan(6 * 30);
    expect(delta('aks_emu_lb_transmit_bytes_total', rule)).toBeGreaterThan(6 * 100);
    expect(delta('aks_emu_kube_proxy_connections_total', { namespace: 'default', service: 'web', port: 'http' })).toBe(6);
    expect(delta('aks_emu_endpoint_connections_total', { namespace: 'default', service: 'web' })).toBe(6);
    expect(delta('aks_emu_listener_connections_total', { role: 'lb', address: web.loadBalancerIP!, port: '80' })).toBe(6);
    expect(total(after, 'aks_emu_lb_open_connections', rule)).toBe(0);
    // Round robin over three pods: two each, and the distribution counters say so.
    expect(pods.size).toBe(3);
    const spread = cluster.distribution('web', { since: baseline });
    expect(spread.total).toBe(6);
    expect(Object.values(spread.shares)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(spread.evenWithin(0.001)).toBe(true);
  });

  it('traces an L4 flow hop by hop: frontend, rule, node, kube-proxy, endpoint and the source the pod saw', async () => {
    const web = cluster.service('web');
    const seen = await echo(web.url());
    const traces = cluster.traces({ service: 'default/web', kind: 'tcp', last: 1 });
    expect(traces).toHaveLength(1);
    const trace = traces[0]! as TraceView & { hops: Hop[]; end?: string; client: string };
    expect(trace.hops.map((h) => h.hop)).toEqual(['listener', 'lb-rule', 'node', 'kube-proxy', 'endpoint']);
    const endpoint = trace.hops[4]!;
    expect(endpoint.pod).toBe(`default/${seen.pod}`);
    // externalTrafficPolicy Cluster: the pod sees the node kube-proxy masqueraded to.
    expect(endpoint.seenSource).toBe(seen.remoteAddress);
    const node = cluster.nodes.find((n) => n.address === seen.remoteAddress)!;
    expect(trace.hops[2]).toEqual({ hop: 'node', node: node.name });
    expect(trace.client).toMatch(/^127\.0\.0\.1:\d+$/);
    // The same trace over the API, once the connection has ended.
    const res = await fetch(`${admin}/aks-emu/v1/traces?service=default/web&kind=tcp&last=1`);
    const list = (await res.json()) as { kind: string; items: (TraceView & { end?: string })[] };
    expect(list.kind).toBe('TraceList');
    expect(list.items[0]!.id).toBe(trace.id);
  });

  it('says why a flow ended when a hop refused it: a ClusterIP reached from outside the cluster', async () => {
    const web = cluster.service('web');
    expect(await connectOutcome(web.clusterIP, 80)).not.toBe('connected');
    const ended = await new Promise<TraceView[]>((resolve) => {
      const check = () => cluster.traces({ kind: 'tcp' }).filter((t) => t.end === 'outside_cluster');
      const found = check();
      if (found.length > 0) return resolve(found);
      const stop = cluster.followTraces({ kind: 'tcp' }, () => {
        if (check().length === 0) return;
        stop();
        resolve(check());
      });
    });
    const trace = ended.at(-1) as TraceView & { hops: Hop[] };
    expect(trace.hops).toEqual([{ hop: 'listener', role: 'clusterip', address: `${web.clusterIP}:80` }]);
    const samples = parseExposition(await scrape()).samples;
    expect(total(samples, 'aks_emu_clusterip_rejected_connections_total', { reason: 'outside_cluster' })).toBeGreaterThanOrEqual(1);
  });

  it('names the fault that reset a flow in its trace, and counts its firings in the metrics', async () => {
    const web = cluster.service('web');
    const fault = await cluster.addFault({ type: 'reset', target: 'service/default/web', params: { fraction: 1 } });
    try {
      expect(await connectOutcome(web.loadBalancerIP!, 80)).not.toBe('connected');
      await cluster.waitForFault(fault.id, 1);
      const trace = cluster.traces({ service: 'default/web', kind: 'tcp' }).find((t) => (t.faults as string[] | undefined)?.includes(`reset ${fault.id}`));
      expect(trace).toBeDefined();
      const samples = parseExposition(await scrape()).samples;
      expect(total(samples, 'aks_emu_fault_fired_total', { id: fault.id, type: 'reset', target: 'service/default/web' })).toBeGreaterThanOrEqual(1);
      expect(total(samples, 'aks_emu_faults_active')).toBe(1);
    } finally {
      await cluster.removeFault(fault.id);
    }
  });

  it('traces an ingress request with its rule, rewrite, upstream and endpoint, and logs it as ingress-nginx does', async () => {
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const res = await httpGet(`http://${ingressIP}/store/items/7?q=1`, {
      headers: { host: 'shop.example.com', 'user-agent': 'obs-test/1', referer: 'http://r.example/' },
    });
    expect(res.status).toBe(200);
    const served = JSON.parse(res.body) as { pod: string; path: string };
    const [trace] = cluster.traces({ service: 'default/web', kind: 'http', last: 1 }) as (TraceView & {
      hops: Hop[];
      status?: number;
      pod: string;
      connection?: number;
    })[];
    expect(trace).toBeDefined();
    expect(trace!.status).toBe(200);
    expect(trace!.hops.map((h) => h.hop)).toEqual(['ingress-rule', 'rewrite', 'upstream', 'endpoint']);
    expect(trace!.hops[0]).toMatchObject({ kind: 'Ingress', route: 'default/shop', server: 'shop.example.com', path: '/store(/|$)(.*)' });
    expect(trace!.hops[1]).toEqual({ hop: 'rewrite', from: '/store/items/7?q=1', to: '/items/7?q=1' });
    expect(trace!.hops[2]).toEqual({ hop: 'upstream', upstream: 'default-web-80' });
    expect(trace!.hops[3]).toMatchObject({ pod: `default/${served.pod}`, status: 200 });
    // The controller's own connection came through the LB: its L4 trace is linked.
    const flow = cluster.traces({ kind: 'tcp' }).find((t) => t.id === trace!.connection) as (TraceView & { hops: Hop[] }) | undefined;
    expect(flow?.hops.map((h) => h.hop)).toEqual(['listener', 'lb-rule', 'node', 'kube-proxy', 'endpoint']);
    expect(flow?.hops[4]!.pod).toBe(trace!.pod);

    const [namespace, pod] = trace!.pod.split('/');
    const log = cluster.logs(pod!, { namespace });
    const line = log.trimEnd().split('\n').at(-1)!;
    const format =
      /^(\S+) - (\S+) \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "([^"]*)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+) (\d+\.\d{3}) \[([^\]]*)\] \[([^\]]*)\] (\S+) (\S+) (\S+) (\S+) ([0-9a-f]{32})$/;
    const m = format.exec(line);
    expect(m, line).not.toBeNull();
    const [
      ,
      remoteAddr,
      remoteUser,
      ,
      request,
      status,
      bodyBytes,
      referer,
      agent,
      requestLength,
      ,
      upstreamName,
      alternative,
      upstreamAddr,
      upstreamLength,
      ,
      upstreamStatus,
    ] = m!;
    // ingress-nginx behind an externalTrafficPolicy Cluster Service sees the node as the client.
    expect(cluster.nodes.map((n) => n.address)).toContain(remoteAddr);
    expect([remoteUser, request, status, referer, agent, upstreamName, alternative, upstreamStatus]).toEqual([
      '-',
      'GET /store/items/7?q=1 HTTP/1.1',
      '200',
      'http://r.example/',
      'obs-test/1',
      'default-web-80',
      '',
      '200',
    ]);
    expect(Number(bodyBytes)).toBe(Buffer.byteLength(res.body));
    expect(Number(upstreamLength)).toBe(Buffer.byteLength(res.body));
    expect(Number(requestLength)).toBeGreaterThan('GET /store/items/7?q=1 HTTP/1.1\r\n'.length);
    expect(upstreamAddr).toBe(`${cluster.pod(served.pod).ip}:8080`);

    const samples = parseExposition(await scrape()).samples;
    expect(total(samples, 'aks_emu_http_requests_total', { kind: 'Ingress', namespace: 'default', route: 'shop', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it('logs what the controller answers itself: a 404 for an unknown host goes to the default backend', async () => {
    const ingressIP = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP!;
    const res = await httpGet(`http://${ingressIP}/nothing`, { headers: { host: 'nowhere.example.com' } });
    expect(res.status).toBe(404);
    const logs = cluster.pods({}, 'ingress-nginx').map((p) => cluster.logs(p.name, { namespace: 'ingress-nginx' }));
    const line = logs
      .join('')
      .split('\n')
      .find((l) => l.includes('"GET /nothing HTTP/1.1"'));
    expect(line).toMatch(/" 404 \d+ "-" "-" \d+ \d+\.\d{3} \[upstream-default-backend\] \[\] - - - - [0-9a-f]{32}$/);
  });

  it('traces a request through a Gateway with its HTTPRoute, and counts it per route', async () => {
    const gateway = cluster.gateway('gw');
    const res = await httpGet(`http://${gateway.address}/api/x`, { headers: { host: 'gw.example.com' } });
    expect(res.status).toBe(200);
    const [trace] = cluster.traces({ service: 'default/web', kind: 'http', last: 1 }) as (TraceView & { hops: Hop[]; status?: number; pod: string })[];
    expect(trace!.hops[0]).toMatchObject({ hop: 'gateway-route', kind: 'HTTPRoute', route: 'default/web-route', server: 'gw.example.com', path: '/api' });
    expect(trace!.status).toBe(200);
    expect(trace!.pod).toMatch(/^default\/gw-approuting-istio-/);
    // Istio's gateways keep no access log by default (meshConfig accessLogFile unset).
    const [namespace, pod] = trace!.pod.split('/');
    expect(cluster.logs(pod!, { namespace })).toBe('');
    const samples = parseExposition(await scrape()).samples;
    expect(total(samples, 'aks_emu_http_requests_total', { kind: 'HTTPRoute', namespace: 'default', route: 'web-route', status: '200' })).toBe(1);
  });

  it('streams traces as server-sent events with follow=1', async () => {
    const controller = new AbortController();
    const res = await fetch(`${admin}/aks-emu/v1/traces?service=default/web&kind=tcp&follow=1`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    // The stream says it is following before any traffic is sent, so nothing is missed.
    while (!text.includes(': following')) text += new TextDecoder().decode((await reader.read()).value);
    const seen = await echo(cluster.service('web').url());
    while (!/\n\n/.test(text.slice(text.indexOf('event: trace')))) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = /event: trace\nid: \d+\ndata: (.*)\n\n/.exec(text);
    const view = JSON.parse(data![1]!) as { hops: Hop[]; end: string };
    expect(view.end).toBe('closed');
    expect(view.hops.at(-1)!.pod).toBe(`default/${seen.pod}`);
  });

  it('says a NetworkPolicy dropped a flow, in its trace and in the drop counters', async () => {
    const deny = `${MANIFESTS}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny-web }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
`;
    await cluster.apply({ manifests: deny });
    try {
      // The SYN is dropped silently: the client waits, then gives up.
      expect(await connectOutcome(cluster.service('web').loadBalancerIP!, 80, { waitMs: 100 })).toBe('connected');
      const trace = await new Promise<TraceView>((resolve) => {
        const found = () => cluster.traces({ service: 'default/web', kind: 'tcp' }).find((t) => t.end === 'network_policy');
        const now = found();
        if (now) return resolve(now);
        const stop = cluster.followTraces({ service: 'default/web' }, () => {
          const t = found();
          if (!t) return;
          stop();
          resolve(t);
        });
      });
      expect((trace.hops as Hop[]).map((h) => h.hop)).toEqual(['listener', 'lb-rule', 'node', 'kube-proxy', 'endpoint']);
      const samples = parseExposition(await scrape()).samples;
      expect(total(samples, 'aks_emu_kube_proxy_dropped_connections_total', { service: 'web', reason: 'network_policy' })).toBeGreaterThanOrEqual(1);
    } finally {
      await cluster.apply({ manifests: MANIFESTS });
    }
  });

  it('refuses bad trace queries with a Status naming the field', async () => {
    for (const [query, field] of [
      ['last=0', 'last'],
      ['service=Not_A/Name', 'service'],
      ['kind=udp', 'kind'],
      ['follow=yes', 'follow'],
      ['servce=default/web', 'servce'],
    ] as const) {
      const res = await fetch(`${admin}/aks-emu/v1/traces?${query}`);
      expect(res.status, query).toBe(400);
      const status = (await res.json()) as { kind: string; message: string; details: { causes: { field: string }[] } };
      expect(status.kind).toBe('Status');
      expect(status.details.causes[0]!.field).toBe(field);
    }
    expect((await fetch(`${admin}/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(405);
  });
});
