import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { echo } from '../helpers/net.js';
import { webApp } from '../helpers/web-manifests.js';

const MANIFESTS = `
${webApp({ replicas: 2, type: 'LoadBalancer', servicePorts: '[{ name: http, port: 80, targetPort: http }]' })}
`;

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: string | number;
}
interface OtlpSpan {
  readonly name: string;
  readonly kind: number;
  readonly attributes: { key: string; value: OtlpValue }[];
  readonly events: { name: string }[];
}

/** A stand-in OpenTelemetry collector: OTLP/HTTP JSON on /v1/traces. */
function collector(): Promise<{ server: Server; url: string; spans: OtlpSpan[]; next: (match: (s: OtlpSpan) => boolean) => Promise<OtlpSpan> }> {
  const spans: OtlpSpan[] = [];
  const waiters: { match: (s: OtlpSpan) => boolean; resolve: (s: OtlpSpan) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      for (const w of [...waiters]) {
        const found = spans.find(w.match);
        if (found) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(found);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
      resolve({
        server,
        url,
        spans,
        next: (match) => {
          const found = spans.find(match);
          return found ? Promise.resolve(found) : new Promise((r) => waiters.push({ match, resolve: r }));
        },
      });
    });
  });
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue));
};

describe('OpenTelemetry export of traces (off unless an endpoint is given)', () => {
  let cluster: Cluster;
  let otel: Awaited<ReturnType<typeof collector>>;

  beforeAll(async () => {
    otel = await collector();
    cluster = await startCluster({
      manifests: MANIFESTS,
      config: { addresses: addressBlock(23), ingress: { enabled: false } },
      timeScale: 1 / 20,
      otlp: { endpoint: otel.url, batchDelayMs: 20 },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    otel?.server.close();
  });

  it('sends each connection as a SERVER span with its hops as events', async () => {
    const seen = await echo(cluster.service('web').url());
    const span = await otel.next((s) => attr(s, 'aks_emu.service') === 'default/web' && s.events.some((e) => e.name === 'endpoint'));
    expect(span.name).toBe('tcp default/web');
    expect(span.kind).toBe(2);
    expect(span.events.map((e) => e.name)).toEqual(['listener', 'lb-rule', 'node', 'kube-proxy', 'endpoint']);
    expect(attr(span, 'aks_emu.end')).toBe('closed');
    expect(attr(span, 'client.address')).toMatch(/^127\.0\.0\.1:\d+$/);
    const trace = cluster.traces({ service: 'default/web', kind: 'tcp' }).find((t) => t.id === attr(span, 'aks_emu.trace.id'));
    expect((trace?.hops as { pod?: string }[] | undefined)?.at(-1)?.pod).toBe(`default/${seen.pod}`);
  });

  it('refuses an endpoint that is not an http(s) URL, naming the field', async () => {
    await expect(startCluster({ manifests: MANIFESTS, config: { addresses: addressBlock(23) }, otlp: { endpoint: 'ftp://x' }, admin: false })).rejects.toThrow(
      /otlp\.endpoint: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/,
    );
  });
});
