/**
 * What one container's readiness probe checks, resolved once when probing (re)starts.
 */
import type { Container, IntOrString, ProbeSpec } from '../../model/types.js';

export type ProbeAction =
  | {
      readonly kind: 'httpGet';
      readonly scheme: 'HTTP' | 'HTTPS';
      readonly port: number;
      readonly path: string;
      readonly headers: readonly { readonly name: string; readonly value: string }[];
    }
  | { readonly kind: 'tcpSocket'; readonly port: number }
  /** exec and grpc: nothing to run them against in a built-in pod, so they pass. */
  | { readonly kind: 'assumed'; readonly handler: 'exec' | 'grpc' }
  /** The probe names a port the container does not declare: every run fails, as kubelet's does. */
  | { readonly kind: 'unresolved'; readonly message: string };

export interface ProbeTarget {
  readonly container: string;
  readonly spec: ProbeSpec;
  readonly action: ProbeAction;
}

/**
 * kubelet's extractPort (pkg/kubelet/prober/prober.go): a name is looked up among the
 * probe's own container's ports, then tried as a number written as a string.
 */
export function resolveProbePort(port: IntOrString, container: Container): number | string {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = container.ports.find((p) => p.name === port);
    n = named ? named.containerPort : /^\d+$/.test(port) ? Number(port) : NaN;
    if (Number.isNaN(n)) return `port ${port} not found`;
  }
  return n > 0 && n < 65536 ? n : `invalid port number: ${n}`;
}

export function probeTarget(container: Container): ProbeTarget | undefined {
  const spec = container.readinessProbe;
  if (!spec) return undefined;
  return { container: container.name, spec, action: probeAction(spec, container) };
}

function probeAction(spec: ProbeSpec, container: Container): ProbeAction {
  if (spec.httpGet) {
    const port = resolveProbePort(spec.httpGet.port, container);
    if (typeof port === 'string') return { kind: 'unresolved', message: port };
    const { scheme, path, httpHeaders } = spec.httpGet;
    return { kind: 'httpGet', scheme, port, path: path.startsWith('/') ? path : `/${path}`, headers: httpHeaders };
  }
  if (spec.tcpSocket) {
    const port = resolveProbePort(spec.tcpSocket.port, container);
    if (typeof port === 'string') return { kind: 'unresolved', message: port };
    return { kind: 'tcpSocket', port };
  }
  return { kind: 'assumed', handler: spec.grpc ? 'grpc' : 'exec' };
}
