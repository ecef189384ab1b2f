/**
 * Everything that can be wrong with a manifest set before anything listens: allocation
 * (ClusterIPs, NodePorts, LB annotations) and the ingress controller's own checks, over
 * the user's objects plus the built-in ones (a NodePort the controller took is taken).
 */
import { allocate, type Allocation } from '../cluster/index.js';
import type { PlacementFacts } from '../cluster/allocate.js';
import { sortBySource } from '../cluster/field-errors.js';
import type { ClusterConfig } from '../config/types.js';
import { validateIngresses } from '../cluster/ingress/index.js';
import { ManifestInvalidError, type FieldError } from '../errors/index.js';
import { loadManifests, type LoadResult, type ManifestOptions } from '../manifests/index.js';
import type { Manifests } from '../model/types.js';
import { controllerConfigMap, ingressControllerErrors, mergeIngressController } from './ingress.js';
import { withGatewayInfrastructure } from '../cluster/gateway/index.js';

export interface CheckResult {
  /** What the cluster runs: the user's manifests plus built-in objects. */
  readonly effective: Manifests;
  readonly allocation: Allocation;
  readonly errors: FieldError[];
  /** Lines to show at start: what will run, but not as asked (pods left Pending and why). */
  readonly warnings: string[];
}

export function checkManifests(manifests: Manifests, config: ClusterConfig, random: () => number, previous?: Allocation, facts?: PlacementFacts): CheckResult {
  const merge = mergeIngressController(manifests, config);
  const effective = withGatewayInfrastructure(merge.manifests);
  const { allocation, errors, warnings } = allocate(effective, config, random, previous, facts);
  const ingressErrors = config.ingress.enabled
    ? [
        ...ingressControllerErrors(merge, config),
        ...validateIngresses(effective, {
          controllerClasses: merge.classes,
          strictValidatePathType: controllerConfigMap(effective, config).settings.strictValidatePathType,
        }),
      ]
    : [];
  return { effective, allocation, errors: sortBySource([...errors, ...ingressErrors]), warnings };
}

/** What the command line adds to the config's manifest options: `--validate` and `-n`. */
export type ManifestFlags = Pick<ManifestOptions, 'fieldValidation' | 'namespace'>;

/** The size limits of the config, as the manifests layer takes them, with the command's flags. */
export function manifestOptions(config: ClusterConfig, flags: ManifestFlags = {}): ManifestOptions {
  return { maxFileBytes: config.maxManifestFileBytes, maxTotalBytes: config.maxManifestTotalBytes, ...flags };
}

/** `spec.ports[0]` covers `spec.ports[0].nodePort`, not `spec.ports[01]`. */
function covers(outer: string, inner: string): boolean {
  return inner.startsWith(outer) && (inner.length === outer.length || inner[outer.length] === '.' || inner[outer.length] === '[');
}

const objectOf = (e: FieldError): string => `${e.source.file}#${e.source.doc}#${e.kind}#${e.namespace ?? ''}/${e.name}`;

/**
 * The API server stops at the first stage that fails (validation, then allocation) and
 * the cloud provider reports annotations later still, so users meet their errors one
 * round at a time. Here the later stages also run over the objects that failed
 * validation, and their errors are added unless they restate one already reported on
 * the same field of the same object.
 */
export function withLaterStages(err: ManifestInvalidError, config: ClusterConfig): ManifestInvalidError {
  if (!err.checkable) return err;
  const reported = new Map<string, string[]>();
  for (const e of err.errors) {
    const fields = reported.get(objectOf(e));
    if (fields) fields.push(e.field);
    else reported.set(objectOf(e), [e.field]);
  }
  const later = checkManifests(err.checkable, config, () => 0).errors.filter((e) => {
    const fields = reported.get(objectOf(e)) ?? [];
    return !fields.some((f) => covers(f, e.field) || covers(e.field, f));
  });
  return new ManifestInvalidError(sortBySource([...err.errors, ...later]), err.valid, err.checkable);
}

/** Manifests from files within the config's size limits; when objects are invalid, every error of every stage at once. */
export async function loadManifestSet(paths: string[], config: ClusterConfig, flags: ManifestFlags = {}): Promise<LoadResult> {
  try {
    return await loadManifests(paths, manifestOptions(config, flags));
  } catch (err) {
    throw err instanceof ManifestInvalidError ? withLaterStages(err, config) : err;
  }
}
