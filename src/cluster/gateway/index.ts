/**
 * The built-in Gateway API controller's control plane (Istio semantics): classes served,
 * the objects each Gateway gets, and the route tables and status it computes.
 */
export { compileGateways, type GatewayCompileInput } from './compile.js';
export { effectiveGatewayClasses, gatewayInfrastructure, gatewayServiceName, servedClasses, withGatewayInfrastructure } from './infrastructure.js';
export { intersectHostname } from './attachment.js';
export * from './types.js';
