import { defaultConfig } from '../../config/defaults.js';
import { buildConfig, loadConfigFile } from '../../config/load.js';
import { ManifestInvalidError, type FieldError } from '../../errors/index.js';
import type { Manifests } from '../../model/types.js';
import { loadManifests } from '../../manifests/index.js';
import { checkManifests } from '../../runtime/check.js';
import { seededRandom } from '../../runtime/embedded-cluster.js';
import { parseCommand, usageError } from '../args.js';

export const validateHelp = `Check manifests as the API server and the AKS cloud provider would, and report every error at once.

Usage: aks-emu validate -f PATH [-f PATH...] [--config FILE]`;

export async function validate(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseCommand('validate', argv, { filename: { type: 'string', short: 'f', multiple: true }, config: { type: 'string' } }, false);
  if (values.help) {
    out(validateHelp);
    return 0;
  }
  if (!values.filename?.length) throw usageError('validate', 'at least one -f PATH is required (a manifest file or folder)');
  const config = values.config ? buildConfig(await loadConfigFile(values.config), values.config) : defaultConfig();
  // Objects that fail their own checks are left out, and the rest are still allocated, so
  // that one run reports every error (as separate kubectl applies would meet them).
  let manifests: Manifests;
  let errors: FieldError[] = [];
  try {
    const loaded = await loadManifests(values.filename);
    for (const n of loaded.notices) out(n);
    manifests = loaded.manifests;
  } catch (err) {
    if (!(err instanceof ManifestInvalidError) || !err.valid) throw err;
    errors = [...err.errors];
    manifests = err.valid;
  }
  errors.push(...checkManifests(manifests, config, seededRandom(1)).errors);
  if (errors.length > 0) throw new ManifestInvalidError(errors.sort(bySource));
  const counts: [number, string, string][] = [
    [manifests.services.length, 'Service', 'Services'],
    [manifests.workloads.length, 'workload', 'workloads'],
    [manifests.ingresses.length, 'Ingress', 'Ingresses'],
    [manifests.endpointSlices.length, 'EndpointSlice', 'EndpointSlices'],
    [manifests.gatewayApi?.gateways.length ?? 0, 'Gateway', 'Gateways'],
    [manifests.gatewayApi?.httpRoutes.length ?? 0, 'HTTPRoute', 'HTTPRoutes'],
    [manifests.gatewayApi?.grpcRoutes.length ?? 0, 'GRPCRoute', 'GRPCRoutes'],
  ];
  const found = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  out(`valid: ${found.join(', ') || 'no objects'}`);
  return 0;
}

function bySource(a: FieldError, b: FieldError): number {
  return a.source.file.localeCompare(b.source.file) || a.source.doc - b.source.doc;
}
