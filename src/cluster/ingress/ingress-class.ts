/**
 * Which Ingresses the built-in controller serves. Kubernetes: spec.ingressClassName names
 * the IngressClass; without one, the IngressClass annotated
 * `ingressclass.kubernetes.io/is-default-class: "true"` applies. An Ingress of another
 * class is ignored and gets no address in its status.
 */
import type { Ingress, IngressClass } from '../../model/types.js';
import type { IngressStatus } from './types.js';

export function ingressOwnership(ing: Ingress, ingressClasses: readonly IngressClass[], controllerClasses: readonly string[]): IngressStatus {
  const className = ing.spec.ingressClassName;
  const served = controllerClasses.map((c) => JSON.stringify(c)).join(', ');
  if (className !== undefined) {
    if (controllerClasses.includes(className)) return { admitted: true };
    return { admitted: false, reason: `ingressClassName ${JSON.stringify(className)} is not served by the built-in controller (it serves ${served})` };
  }
  const defaults = ingressClasses.filter((c) => c.isDefault);
  if (defaults.some((c) => controllerClasses.includes(c.metadata.name))) return { admitted: true };
  if (defaults.length > 0) {
    const names = defaults.map((c) => JSON.stringify(c.metadata.name)).join(', ');
    return { admitted: false, reason: `no ingressClassName, and the default IngressClass (${names}) is not served by the built-in controller` };
  }
  return { admitted: false, reason: `no ingressClassName and no default IngressClass; set spec.ingressClassName to one of ${served}` };
}
