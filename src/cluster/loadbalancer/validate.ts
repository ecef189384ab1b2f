/**
 * Annotation values cloud-provider-azure would refuse. On AKS the Service is created and
 * the LB reconcile fails with an event; aks-emu reports them with the manifest errors so
 * the mistake is seen before anything starts.
 */
import type { FieldError } from '../../errors/index.js';
import type { Service } from '../../model/types.js';
import { serviceFieldError } from '../field-errors.js';
import {
  ANNOTATIONS,
  BOOLEAN_ANNOTATIONS,
  BOOLEAN_PORT_PARAMS,
  healthProbeAnnotation,
  idleTimeoutMinutes,
  isTrue,
  portAnnotation,
  PROBE_PROTOCOLS,
  type AnnotationProblem,
} from './annotations.js';
import { probeTiming } from './probes.js';
import { rulePorts } from './rules.js';

const annotationField = (key: string): string => `metadata.annotations[${key}]`;

export function annotationError(service: Service, problem: AnnotationProblem): FieldError {
  return serviceFieldError(service, annotationField(problem.key), 'Invalid', problem.value, problem.detail);
}

/**
 * Values cloud-provider-azure would quietly read as something else: a boolean that is not
 * `true` counts as false (so `internal: maybe` gives a public IP) and an unknown probe
 * protocol falls back to Tcp. aks-emu refuses them instead, naming what is supported,
 * because the fallback hides the typo until traffic goes where it should not.
 */
function unsupportedValues(service: Service): FieldError[] {
  const annotations = service.metadata.annotations;
  const errors: FieldError[] = [];
  const check = (key: string, supported: readonly string[], normalise: (v: string) => string) => {
    const value = annotations[key];
    if (value === undefined || supported.includes(normalise(value))) return;
    errors.push({ ...serviceFieldError(service, annotationField(key), 'NotSupported', value), supported });
  };
  const ports = [...new Set(service.spec.ports.map((p) => p.port))];
  const booleans = [...BOOLEAN_ANNOTATIONS, ...ports.flatMap((p) => BOOLEAN_PORT_PARAMS.map((param) => portAnnotation(p, param)))];
  for (const key of booleans) check(key, ['true', 'false'], (v) => v.toLowerCase());
  for (const key of [ANNOTATIONS.probeProtocol, ...ports.map((p) => healthProbeAnnotation(p, 'protocol'))]) {
    check(key, PROBE_PROTOCOLS, (v) => v.trim().toLowerCase());
  }
  for (const key of [ANNOTATIONS.probeRequestPath, ...ports.map((p) => healthProbeAnnotation(p, 'request-path'))]) {
    const path = annotations[key];
    // The probe sends `GET <path> HTTP/1.1`: Azure's requestPath is an absolute path.
    if (path !== undefined && !/^\/[^\s]*$/.test(path)) {
      errors.push(serviceFieldError(service, annotationField(key), 'Invalid', path, 'must be an absolute path that starts with "/" and has no spaces'));
    }
  }
  return errors;
}

/** Every bad annotation of a Service the Azure LB programs, each reported once. */
export function validateLoadBalancerAnnotations(service: Service, healthCheckNodePort: number | undefined): FieldError[] {
  const problems: AnnotationProblem[] = [];
  const idle = idleTimeoutMinutes(service).problem;
  if (idle) problems.push(idle);
  if (service.spec.externalTrafficPolicy === 'Local') {
    if (healthCheckNodePort !== undefined) problems.push(...probeTiming(service, healthCheckNodePort).problems);
  } else {
    for (const { port } of rulePorts(service)) {
      if (port.protocol !== 'TCP' || isTrue(service.metadata.annotations, portAnnotation(port.port, 'no_probe_rule'))) continue;
      problems.push(...probeTiming(service, port.port).problems);
    }
  }
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const id = `${p.key}\n${p.detail}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .map((p) => annotationError(service, p))
    .concat(unsupportedValues(service));
}
