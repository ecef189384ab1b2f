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
  controllerChart,
  type ControllerChart,
} from './controller-manifests.js';
export { isControllerService, mergeControllerObjects, selectsControllerPods, type ControllerMerge } from './controller-takeover.js';
export { readControllerConfigMap, findControllerConfigMap, DEFAULT_CONTROLLER_SETTINGS, type ControllerSettings } from './controller-configmap.js';
export { healthzProbeNotices, routeProbePath, type ProbeRoute } from './healthz-probe.js';
export * from './types.js';
