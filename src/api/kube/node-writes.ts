/**
 * What users write on nodes and pods beyond the store's own objects: a Node's labels,
 * annotations and spec.unschedulable (kubectl label / annotate / cordon / uncordon / drain),
 * and the eviction subresource of pods (kubectl drain). Nodes are the cluster's, so the
 * rest of a Node stays read-only, refused in the API server's words.
 */
import type { KubeObject } from '../../cluster/store/index.js';
import type { NodeMeta } from '../../cluster/nodes.js';
import { ApiStatusError, ManifestInvalidError, type FieldError } from '../../errors/index.js';
import { isLabelValue, isQualifiedName } from '../../manifests/validation/names.js';
import { qualifiedResource, refOf } from './resources.js';
import { applyPatch, remove, userObject, type WriteContext } from './writes.js';

type Json = Record<string, unknown>;

/** What the cluster runtime offers for nodes and evictions (the embedded cluster has it). */
export interface NodeControl {
  nodeMeta(name: string): NodeMeta;
  setNodeMeta(name: string, meta: NodeMeta): Promise<void>;
  evictPod(podKey: string): Promise<void>;
}

const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function nodeControl(ctx: WriteContext, method: string, path: string): NodeControl {
  const control = ctx.kube.nodeControl;
  if (!control) throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${path})`);
  return control;
}

/** A string map at `field`, each key and value checked as ValidateLabels / ValidateAnnotations check them. */
function stringMap(value: unknown, field: string, name: string, errors: FieldError[], isLabel: boolean): Record<string, string> {
  const at = (type: FieldError['type'], v: unknown, detail: string): void => {
    errors.push({ source: { file: '<api>', doc: 1 }, kind: 'Node', name, field, type, value: v, detail });
  };
  if (value === undefined || value === null) return {};
  if (!isObj(value)) {
    at('Invalid', value, 'must be a map of string keys to string values');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null) continue; // a merge patch's null removes the key
    if (typeof v !== 'string') {
      at('Invalid', v, `the value of ${k} must be a string`);
      continue;
    }
    for (const detail of isQualifiedName(isLabel ? k : k.toLowerCase())) at('Invalid', k, detail);
    if (isLabel) for (const detail of isLabelValue(v)) at('Invalid', v, detail);
    out[k] = v;
  }
  return out;
}

/** The spec a user may not change: everything but spec.unschedulable and the taint cordon adds. */
function fixedSpec(spec: unknown): string {
  const { unschedulable: _u, taints, ...rest } = isObj(spec) ? spec : {};
  const others = Array.isArray(taints) ? taints.filter((t) => !(isObj(t) && t['key'] === UNSCHEDULABLE_TAINT)) : [];
  return JSON.stringify({ ...rest, ...(others.length > 0 ? { taints: others } : {}) });
}

/** The fields of `next` that differ from `current` outside what users may write, in the API server's words. */
function forbiddenChanges(current: KubeObject, next: Json, name: string): FieldError[] {
  const cur = isObj(current['spec']) ? current['spec'] : {};
  const nxt = isObj(next['spec']) ? next['spec'] : {};
  if (fixedSpec(cur) === fixedSpec(nxt)) return [];
  const forbid = (field: string, detail: string): FieldError => ({ source: { file: '<api>', doc: 1 }, kind: 'Node', name, field, type: 'Forbidden', detail });
  const changed = new Set(
    [...Object.keys(cur), ...Object.keys(nxt)].filter((k) => k !== 'unschedulable' && fixedSpec({ [k]: cur[k] }) !== fixedSpec({ [k]: nxt[k] })),
  );
  const errors: FieldError[] = [];
  for (const key of changed) {
    if (key === 'podCIDR' || key === 'podCIDRs') errors.push(forbid(`spec.${key}`, 'node updates may not change podCIDR except from "" to valid'));
    else if (key === 'providerID') errors.push(forbid('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    else
      errors.push(
        forbid(`spec.${key}`, 'aks-emu lets users change only spec.unschedulable of a Node (kubectl cordon / uncordon), and its labels and annotations'),
      );
  }
  return errors;
}

/**
 * PUT or PATCH of a Node: labels, annotations and spec.unschedulable take effect (new pods
 * avoid a cordoned node; the LB pools follow the exclusion label); status is the kubelet's
 * and is ignored, as on the main resource of the API server; other changes are refused.
 */
export async function writeNode(ctx: WriteContext, name: string, method: string, path: string, type: string, body: unknown): Promise<KubeObject> {
  const control = nodeControl(ctx, method, path);
  return ctx.kube.run(async () => {
    const entry = ctx.kube.store.get(refOf(ctx.r, '', name));
    if (!entry) throw new ApiStatusError('NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
    const next = (method === 'PUT' ? userObject(ctx.r, undefined, name, body) : applyPatch(type, entry.object, body)) as Json;
    if (!isObj(next) || !isObj(next['metadata'])) throw new ApiStatusError('BadRequest', 'the patched Node must be a JSON object with metadata');
    const meta = next['metadata'];
    const expect = (body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
    if (typeof expect === 'string' && expect !== '' && expect !== entry.object.metadata.resourceVersion)
      throw new ApiStatusError(
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(ctx.r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, kind: 'nodes' },
      );
    const errors: FieldError[] = [];
    const labels = stringMap(meta['labels'], 'metadata.labels', name, errors, true);
    const annotations = stringMap(meta['annotations'], 'metadata.annotations', name, errors, false);
    const unschedulable = isObj(next['spec']) ? next['spec']['unschedulable'] : undefined;
    if (unschedulable !== undefined && unschedulable !== null && typeof unschedulable !== 'boolean')
      errors.push({
        source: { file: '<api>', doc: 1 },
        kind: 'Node',
        name,
        field: 'spec.unschedulable',
        type: 'Invalid',
        value: unschedulable,
        detail: 'must be a boolean',
      });
    errors.push(...forbiddenChanges(entry.object, next, name));
    if (errors.length > 0) throw new ManifestInvalidError(errors);
    const wanted: NodeMeta = { labels, annotations, unschedulable: unschedulable === true };
    if (ctx.dryRun) return { ...entry.object, metadata: { ...entry.object.metadata, labels, annotations }, spec: { ...(next['spec'] as Json), unschedulable } };
    await control.setNodeMeta(name, wanted);
    return ctx.kube.store.get(entry.ref)?.object ?? entry.object;
  });
}

/**
 * POST pods/NAME/eviction (policy/v1 Eviction): a controller's pod goes and its controller
 * replaces it, placed afresh (so not on a cordoned node); a bare Pod is deleted. aks-emu
 * serves no PodDisruptionBudgets, so no eviction is refused with 429.
 */
export async function evictPod(ctx: WriteContext, name: string, path: string, body: unknown): Promise<Json> {
  const control = nodeControl(ctx, 'POST', path);
  if (!isObj(body)) throw new ApiStatusError('BadRequest', 'the request body must be a JSON object');
  if (body['kind'] !== undefined && body['kind'] !== 'Eviction')
    throw new ApiStatusError('BadRequest', `the kind of the provided object (${String(body['kind'])}) does not match the resource (Eviction)`);
  const bodyName = isObj(body['metadata']) ? body['metadata']['name'] : undefined;
  if (bodyName !== undefined && bodyName !== name) throw new ApiStatusError('BadRequest', `name in URL does not match name in Eviction object`);
  const entry = ctx.kube.store.get(refOf(ctx.r, ctx.namespace, name));
  if (!entry) throw new ApiStatusError('NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
  if (entry.owner === 'user') await remove(ctx, name);
  else if (!ctx.dryRun) await ctx.kube.run(() => control.evictPod(`${ctx.namespace}/${name}`));
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
