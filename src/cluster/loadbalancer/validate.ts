/**
 * Annotation values cloud-provider-azure would refuse. On AKS the Service is created and
 * the LB reconcile fails with an event; aks-emu reports them with the manifest errors so
 * the mistake is seen before anything starts.
 */
import type { FieldError } from '../../errors/index.js';
import type { Service } from '../../model/types.js';
import { serviceFieldError } from '../field-errors.js';
import { idleTimeoutMinutes, isTrue, portAnnotation, type AnnotationProblem } from './annotations.js';
import { probeTiming } from './probes.js';
import { rulePorts } from './rules.js';

export function annotationError(service: Service, problem: AnnotationProblem): FieldError {
  return serviceFieldError(service, `metadata.annotations[${problem.key}]`, 'Invalid', problem.value, problem.detail);
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
    .map((p) => annotationError(service, p));
}
