/**
 * The ingress controller's control plane (ingress-nginx semantics), opening no socket:
 * validate Ingresses, compile them with their annotations into plain configuration the
 * data plane's routers are built from, and the built-in controller's own objects.
 */
export { compileIngress, type CompileInput } from './compile.js';
export { validateIngresses, type ValidateIngressOptions } from './validate.js';
export {
  CONTROLLER_NAME,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SOURCE_FILE,
  ingressControllerObjects,
  RUNTIME_ANNOTATION,
  type ControllerObjects,
} from './controller-manifests.js';
export * from './types.js';
