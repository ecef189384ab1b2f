/**
 * One line per trace for `aks-emu trace`: the hops in order, with the decision each made,
 * then how the connection or request ended.
 */
export interface TraceLike {
  readonly id: number;
  readonly kind: 'tcp' | 'http';
  readonly start?: string;
  readonly [field: string]: unknown;
}

type Hop = Readonly<Record<string, unknown>> & { readonly hop: string };

function str(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function podName(value: unknown): string {
  const pod = str(value);
  return pod.slice(pod.indexOf('/') + 1);
}

function tcpHop(h: Hop): string {
  switch (h.hop) {
    case 'listener':
      return `${str(h.role)} ${str(h.address)}`;
    case 'lb-rule':
      return `rule ${str(h.rule)}`;
    case 'node':
      return `node ${str(h.node)}`;
    case 'kube-proxy':
      return `kube-proxy ${str(h.service)}${str(h.port) === '' ? '' : `:${str(h.port)}`}${h.endpoints === 'local' ? ' (local endpoints)' : ''}`;
    case 'endpoint': {
      const pod = h.pod === undefined ? '' : ` pod/${podName(h.pod)}`;
      const tries = typeof h.attempts === 'number' && h.attempts > 1 ? `, ${h.attempts} attempts` : '';
      return `${str(h.endpoint)}${pod} (source ${str(h.seenSource)}${h.delivery === undefined ? '' : `, ${str(h.delivery)}`}${tries})`;
    }
    default:
      return h.hop;
  }
}

function httpHop(h: Hop): string {
  switch (h.hop) {
    case 'ingress-rule':
    case 'gateway-route':
      return h.kind === undefined ? `${str(h.route)}` : `${str(h.kind)} ${str(h.route)} ${str(h.path)}`.trimEnd();
    case 'rewrite':
      return `rewrite ${str(h.to)}`;
    case 'upstream':
      return `upstream ${str(h.upstream)}`;
    case 'endpoint':
      return `${str(h.endpoint)}${h.pod === undefined ? '' : ` pod/${podName(h.pod)}`} ${str(h.status) || '-'}`;
    default:
      return h.hop;
  }
}

function time(start: string | undefined): string {
  return start === undefined ? '' : start.slice(11, 23);
}

export function formatTrace(trace: TraceLike): string {
  const hops = Array.isArray(trace.hops) ? (trace.hops as Hop[]) : [];
  const open = trace.open === true;
  // The container runtime gathers traces from its lb and node containers, each numbering its own.
  const id = typeof trace.instance === 'string' ? `${trace.id}@${trace.instance}` : String(trace.id);
  if (trace.kind === 'http') {
    const path = hops.map(httpHop).join(' → ');
    const end = open ? 'open' : `${str(trace.status)} ${str(trace.durationMs)} ms`;
    return `#${id} http ${time(trace.start)} ${str(trace.client)} "${str(trace.request)}" host ${str(trace.host)} via ${str(trace.pod)} → ${path} · ${end}`;
  }
  const path = hops.map(tcpHop).join(' → ');
  const bytes = trace.bytes as { fromClient?: number; toClient?: number } | undefined;
  const end = open ? 'open' : `${str(trace.end)} ${str(trace.durationMs)} ms, ${bytes?.fromClient ?? 0} B in, ${bytes?.toClient ?? 0} B out`;
  return `#${id} tcp ${time(trace.start)} ${str(trace.client)} → ${path} · ${end}`;
}
