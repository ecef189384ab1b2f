import { buildConfig, loadConfigFile, type ConfigInput } from '../../config/load.js';
import { ManifestInvalidError } from '../../errors/index.js';
import { checkManifests, loadManifestSet } from '../../runtime/check.js';
import { seededRandom } from '../../runtime/embedded-cluster.js';
import { MANIFEST_SIZE_HELP, manifestSizeFlag, namespaceFlag, parseCommand, usageError, VALIDATE_HELP, validateFlag } from '../args.js';

export const validateHelp = `Check manifests as the API server and the AKS cloud provider would, and report every error at once.

Usage: aks-emu validate -f PATH [-f PATH...] [--config FILE] [--max-manifest-size SIZE] [--validate MODE] [-n NS]

Flags:
  -f, --filename PATH   manifest file or folder (repeatable; folders are read recursively)
      --config FILE     cluster configuration (aks-emu.yaml)
${VALIDATE_HELP}
${MANIFEST_SIZE_HELP}`;

export async function validate(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseCommand(
    'validate',
    argv,
    {
      filename: { type: 'string', short: 'f', multiple: true },
      config: { type: 'string' },
      'max-manifest-size': { type: 'string' },
      validate: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
    },
    false,
  );
  if (values.help) {
    out(validateHelp);
    return 0;
  }
  if (!values.filename?.length) throw usageError('validate', 'at least one -f PATH is required (a manifest file or folder)');
  const manifestFlags = { fieldValidation: validateFlag('validate', values.validate), namespace: namespaceFlag('validate', values.namespace) };
  const input: ConfigInput = values.config ? await loadConfigFile(values.config) : {};
  manifestSizeFlag('validate', values['max-manifest-size'], input);
  const config = buildConfig(input, values.config ?? 'flags');
  // Objects that fail their own checks still go through allocation and the cloud
  // provider's checks, so that one run reports every error.
  const { manifests, notices } = await loadManifestSet(values.filename, config, manifestFlags);
  for (const n of notices) out(n);
  const { errors, warnings } = checkManifests(manifests, config, seededRandom(1));
  if (errors.length > 0) throw new ManifestInvalidError(errors);
  for (const w of warnings) out(`warning: ${w}`);
  const counts: [number, string, string][] = [
    [manifests.services.length, 'Service', 'Services'],
    [manifests.workloads.length, 'workload', 'workloads'],
    [manifests.ingresses.length, 'Ingress', 'Ingresses'],
    [manifests.endpointSlices.length, 'EndpointSlice', 'EndpointSlices'],
    [manifests.gatewayApi?.gateways.length ?? 0, 'Gateway', 'Gateways'],
    [manifests.gatewayApi?.httpRoutes.length ?? 0, 'HTTPRoute', 'HTTPRoutes'],
    [manifests.gatewayApi?.grpcRoutes.length ?? 0, 'GRPCRoute', 'GRPCRoutes'],
    [manifests.gatewayApi?.tcpRoutes?.length ?? 0, 'TCPRoute', 'TCPRoutes'],
    [manifests.gatewayApi?.tlsRoutes?.length ?? 0, 'TLSRoute', 'TLSRoutes'],
    [manifests.networkPolicies?.length ?? 0, 'NetworkPolicy', 'NetworkPolicies'],
  ];
  const found = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  out(`valid: ${found.join(', ') || 'no objects'}`);
  return 0;
}
