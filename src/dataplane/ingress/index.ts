/**
 * The L7 ingress controller (ingress-nginx semantics): compile Ingresses into plain
 * configuration, build frozen routers from it, proxy with them, validate and explain.
 */
export { compileIngress, type CompileInput } from './compile.js';
export { buildRouter, Router, type CompiledLocation, type CompiledServer, type CompiledUpstream } from './router.js';
export { IngressProxy, type IngressProxyOptions, type Scheme } from './proxy.js';
export { validateIngresses, type ValidateIngressOptions } from './validate.js';
export { explainRequest, formatExplanation, type Explanation, type ExplainRequest } from './explain.js';
export {
  CONTROLLER_NAME,
  CONTROLLER_NAMESPACE,
  CONTROLLER_SOURCE_FILE,
  ingressControllerObjects,
  RUNTIME_ANNOTATION,
  type ControllerObjects,
} from './controller-manifests.js';
export { defaultCertificate, FAKE_CERTIFICATE_CN, generateSelfSignedCertificate, type CertificatePair } from './self-signed-cert.js';
export * from './types.js';
