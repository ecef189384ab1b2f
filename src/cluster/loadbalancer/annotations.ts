/**
 * The Service annotations cloud-provider-azure reads (pkg/consts/consts.go, helpers.go),
 * parsed the way it parses them. A bad value is a problem named after its annotation;
 * the caller turns it into a FieldError, and programming falls back to the default.
 */
import type { Service } from '../../model/types.js';

const PREFIX = 'service.beta.kubernetes.io/';

export const ANNOTATIONS = {
  internal: `${PREFIX}azure-load-balancer-internal`,
  internalSubnet: `${PREFIX}azure-load-balancer-internal-subnet`,
  ipv4: `${PREFIX}azure-load-balancer-ipv4`,
  idleTimeout: `${PREFIX}azure-load-balancer-tcp-idle-timeout`,
  disableTcpReset: `${PREFIX}azure-load-balancer-disable-tcp-reset`,
  disableFloatingIP: `${PREFIX}azure-disable-load-balancer-floating-ip`,
  probeProtocol: `${PREFIX}azure-load-balancer-health-probe-protocol`,
  probeRequestPath: `${PREFIX}azure-load-balancer-health-probe-request-path`,
  probeInterval: `${PREFIX}azure-load-balancer-health-probe-interval`,
  probeNumOfProbe: `${PREFIX}azure-load-balancer-health-probe-num-of-probe`,
  /** Kubernetes' own (cloud-provider servicehelpers), used when spec.loadBalancerSourceRanges is empty. */
  sourceRanges: `${PREFIX}load-balancer-source-ranges`,
} as const;

export type PortParam = 'no_lb_rule' | 'no_probe_rule';
export type HealthProbeParam = 'protocol' | 'request-path' | 'interval' | 'num-of-probe';

/** `service.beta.kubernetes.io/port_80_no_lb_rule` (PortAnnotationPrefixPattern). */
export function portAnnotation(port: number, param: PortParam | `health-probe_${HealthProbeParam}`): string {
  return `${PREFIX}port_${port}_${param}`;
}

/** `service.beta.kubernetes.io/port_80_health-probe_protocol` (HealthProbeAnnotationPrefixPattern). */
export function healthProbeAnnotation(port: number, param: HealthProbeParam): string {
  return portAnnotation(port, `health-probe_${param}`);
}

export interface AnnotationProblem {
  readonly key: string;
  readonly value: string;
  readonly detail: string;
}

export interface Parsed<T> {
  readonly value: T;
  readonly problem?: AnnotationProblem;
}

/** Boolean annotations are on only for `true`, in any case (strings.EqualFold). */
export function isTrue(annotations: Readonly<Record<string, string>>, key: string): boolean {
  return annotations[key]?.toLowerCase() === 'true';
}

/**
 * extractInt32FromString: trimmed, base-10, within int32, then the business validator.
 * A value that is not a whole number gets cloud-provider-azure's "<v> value must be a whole number".
 */
export function int32Annotation(
  annotations: Readonly<Record<string, string>>,
  key: string,
  fallback: number,
  validate: (n: number) => string | undefined = () => undefined,
): Parsed<number> & { readonly present: boolean } {
  const raw = annotations[key];
  if (raw === undefined) return { value: fallback, present: false };
  const text = raw.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    return { value: fallback, present: true, problem: { key, value: raw, detail: `${text} value must be a whole number` } };
  }
  const why = validate(n);
  return why === undefined ? { value: n, present: true } : { value: fallback, present: true, problem: { key, value: raw, detail: why } };
}

export function isInternal(service: Service): boolean {
  return isTrue(service.metadata.annotations, ANNOTATIONS.internal);
}

/** `azure-load-balancer-ipv4` is preferred; spec.loadBalancerIP is deprecated but still read. */
export function requestedFrontendIP(service: Service): string | undefined {
  return requestedFrontendIPOf(service)?.value;
}

/** The requested address and the field it was written in, for messages. */
export function requestedFrontendIPOf(service: Service): { value: string; field: string } | undefined {
  const annotated = service.metadata.annotations[ANNOTATIONS.ipv4]?.trim();
  if (annotated) return { value: annotated, field: `metadata.annotations[${ANNOTATIONS.ipv4}]` };
  const field = service.spec.loadBalancerIP?.trim();
  return field ? { value: field, field: 'spec.loadBalancerIP' } : undefined;
}

/** Annotations cloud-provider-azure reads as booleans (true only for `true`, in any case). */
export const BOOLEAN_ANNOTATIONS = [ANNOTATIONS.internal, ANNOTATIONS.disableTcpReset, ANNOTATIONS.disableFloatingIP] as const;
export const BOOLEAN_PORT_PARAMS: readonly PortParam[] = ['no_lb_rule', 'no_probe_rule'];

/** Values of `azure-load-balancer-health-probe-protocol` (armnetwork ProbeProtocol, compared case-insensitively). */
export const PROBE_PROTOCOLS = ['tcp', 'http', 'https'] as const;

const IDLE_MIN = 4;
const IDLE_MAX = 100;

/** Whole minutes 4..100, default 4 (the Azure default). */
export function idleTimeoutMinutes(service: Service): Parsed<number> {
  return int32Annotation(service.metadata.annotations, ANNOTATIONS.idleTimeout, IDLE_MIN, (n) =>
    n < IDLE_MIN || n > IDLE_MAX
      ? `idle timeout value must be a whole number representing minutes between ${IDLE_MIN} and ${IDLE_MAX}, actual value: ${n}`
      : undefined,
  );
}

/** spec.loadBalancerSourceRanges, or the comma-separated annotation when the field is empty. */
export function sourceRanges(service: Service): string[] {
  if (service.spec.loadBalancerSourceRanges.length > 0) return [...service.spec.loadBalancerSourceRanges];
  const annotated = service.metadata.annotations[ANNOTATIONS.sourceRanges];
  if (!annotated) return [];
  return annotated
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
