/**
 * The L7 ingress controller's data plane (ingress-nginx semantics): frozen routers built
 * from the configuration src/cluster/ingress compiles, the proxy that uses them, and explain.
 */
export { buildRouter, Router, type CompiledLocation, type CompiledServer, type CompiledUpstream } from './router.js';
export { IngressProxy, type IngressProxyOptions, type Scheme } from './proxy.js';
export { explainRequest, formatExplanation, type Explanation, type ExplainRequest } from './explain.js';
export { defaultCertificate, FAKE_CERTIFICATE_CN, generateSelfSignedCertificate, type CertificatePair } from './self-signed-cert.js';
