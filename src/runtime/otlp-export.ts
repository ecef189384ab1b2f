/**
 * Optional OpenTelemetry export (off unless an endpoint is given): every trace that ends
 * becomes a span sent with OTLP over HTTP (the official OpenTelemetry JS SDK and
 * exporter), so a collector, Jaeger or Tempo shows aks-emu's connections and requests
 * next to the application's own spans. A TCP trace is a span `tcp <service>` and an HTTP
 * trace a span `<METHOD> <route>`, both SERVER spans with the trace's start and duration;
 * each hop is a span event carrying the hop's fields. The SDK is loaded only when export
 * is switched on.
 */
import type { Attributes, Tracer } from '@opentelemetry/api';
import type { Traces, TraceView } from '../dataplane/observe/traces.js';
import { AksEmuError } from '../errors/index.js';

export interface OtlpExportOptions {
  /** The collector's traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly endpoint: string;
  /** The resource's service.name (default aks-emu). */
  readonly serviceName?: string;
  /** How long spans wait in the batch before they are sent (default 1000 ms). */
  readonly batchDelayMs?: number;
}

export interface OtlpExport {
  /** Sends what is batched and stops following the traces. */
  stop(): Promise<void>;
}

type Hop = Readonly<Record<string, unknown>> & { readonly hop: string };

function scalarAttributes(record: Readonly<Record<string, unknown>>, prefix: string): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[`${prefix}${key}`] = value;
  }
  return out;
}

function spanOf(tracer: Tracer, view: TraceView, spanKindServer: number): void {
  const start = Date.parse(String(view.start));
  const durationMs = typeof view.durationMs === 'number' ? view.durationMs : 0;
  const hops = (Array.isArray(view.hops) ? view.hops : []) as Hop[];
  const attributes: Attributes = { 'aks_emu.trace.id': view.id, 'aks_emu.trace.kind': view.kind };
  let name: string;
  if (view.kind === 'http') {
    const [method = '', target = ''] = String(view.request ?? '').split(' ');
    const rule = hops[0];
    name = `${method} ${typeof rule?.route === 'string' ? rule.route : target}`;
    Object.assign(attributes, {
      'http.request.method': method,
      'url.path': target,
      'server.address': String(view.host ?? ''),
      'client.address': String(view.client ?? ''),
      ...(typeof view.status === 'number' ? { 'http.response.status_code': view.status } : {}),
      ...(typeof view.service === 'string' ? { 'aks_emu.service': view.service } : {}),
      ...(typeof view.connection === 'number' ? { 'aks_emu.connection.id': view.connection } : {}),
    });
  } else {
    name = `tcp ${typeof view.service === 'string' ? view.service : String(hops[0]?.address ?? '')}`;
    Object.assign(attributes, {
      'client.address': String(view.client ?? ''),
      ...(typeof view.service === 'string' ? { 'aks_emu.service': view.service } : {}),
      ...(typeof view.end === 'string' ? { 'aks_emu.end': view.end } : {}),
    });
  }
  if (Array.isArray(view.faults)) attributes['aks_emu.faults'] = (view.faults as unknown[]).map(String);
  const span = tracer.startSpan(name, { kind: spanKindServer, startTime: start, attributes });
  for (const hop of hops) span.addEvent(hop.hop, scalarAttributes(hop, 'aks_emu.'), start);
  span.end(start + durationMs);
}

/** Refuses an endpoint that is not an http(s) URL, naming `field`. */
export function checkOtlpEndpoint(endpoint: string, field: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AksEmuError(
      'AKS_EMU_USAGE',
      `${field}: "${endpoint}" is not an http:// or https:// URL (an OTLP/HTTP traces endpoint such as http://127.0.0.1:4318/v1/traces)`,
    );
  }
}

/** Starts exporting every trace that ends from now on. */
export async function startOtlpExport(traces: Traces, options: OtlpExportOptions): Promise<OtlpExport> {
  checkOtlpEndpoint(options.endpoint, 'otlp.endpoint');
  const [api, sdk, exporter, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': options.serviceName ?? 'aks-emu' }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({ exporter: new exporter.OTLPTraceExporter({ url: options.endpoint }), scheduledDelayMillis: options.batchDelayMs ?? 1000 }),
    ],
  });
  const tracer = provider.getTracer('aks-emu');
  const stopFollowing = traces.follow({}, (view) => spanOf(tracer, view, api.SpanKind.SERVER));
  return {
    async stop() {
      stopFollowing();
      await provider.shutdown();
    },
  };
}
