/**
 * Writes as the API server takes them: create, update (replace), the three patch types,
 * server-side apply, delete, and the scale subresource. Each builds the whole next object
 * from the store as it is when the write runs; the KubeStore validates and applies it.
 */
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { type Change, type KubeObject, type ObjectRef, type StoredEntry } from '../../cluster/store/index.js';
import { ApiStatusError, ManifestInvalidError } from '../../errors/index.js';
import { PROTOBUF } from '../http/guard.js';
import { keepAllocated, withStringDataFolded } from './allocated-fields.js';
import { mergePatch, jsonPatch, strategicMergePatch } from './patch.js';
import { decodeKubeProtobuf } from './protobuf.js';
import { groupVersion, qualifiedResource, refOf, type ResourceType } from './resources.js';
import type { KubeStore } from './kube-store.js';

type Json = Record<string, unknown>;

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseBody(body: Buffer | undefined, contentType: string): unknown {
  if (body === undefined) throw new ApiStatusError('BadRequest', 'the request body is empty');
  if (contentType === PROTOBUF) return decodeKubeProtobuf(body);
  const text = body.toString('utf8');
  try {
    return contentType === 'application/apply-patch+yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ApiStatusError(
      'BadRequest',
      `the request body is not valid ${contentType === 'application/apply-patch+yaml' ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
}

function invalid(r: ResourceType, name: string, field: string, value: unknown, detail: string): ManifestInvalidError {
  return new ManifestInvalidError([{ source: { file: '<api>', doc: 1 }, kind: r.kind, name, field, type: 'Invalid', value, detail }]);
}

/** The object a user sent, checked against the URL it was sent to, with server-owned fields dropped. */
export function userObject(r: ResourceType, namespace: string | undefined, pathName: string | undefined, body: unknown): KubeObject {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiStatusError('BadRequest', 'the request body must be a JSON object');
  const o = body as Json;
  const meta = { ...((o['metadata'] as Json | undefined) ?? {}) };
  if (o['kind'] !== undefined && o['kind'] !== r.kind)
    throw new ApiStatusError('BadRequest', `the kind of the provided object (${String(o['kind'])}) does not match the resource (${r.kind})`);
  if (o['apiVersion'] !== undefined && o['apiVersion'] !== groupVersion(r))
    throw new ApiStatusError(
      'BadRequest',
      `the API version in the data (${String(o['apiVersion'])}) does not match the expected API version (${groupVersion(r)})`,
    );
  if (meta['name'] === undefined && typeof meta['generateName'] === 'string')
    meta['name'] = `${meta['generateName']}${randomBytes(4).toString('hex').slice(0, 5)}`;
  if (pathName !== undefined && meta['name'] !== undefined && meta['name'] !== pathName)
    throw new ApiStatusError('BadRequest', `the name of the object (${String(meta['name'])}) does not match the name on the URL (${pathName})`);
  meta['name'] ??= pathName;
  const name = meta['name'];
  if (typeof name !== 'string' || name === '')
    throw new ManifestInvalidError([
      { source: { file: '<api>', doc: 1 }, kind: r.kind, name: '', field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' },
    ]);
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    throw invalid(
      r,
      name,
      'metadata.name',
      name,
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  if (r.namespaced) {
    if (meta['namespace'] !== undefined && namespace !== undefined && meta['namespace'] !== namespace)
      throw new ApiStatusError('BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    meta['namespace'] = namespace;
  } else delete meta['namespace'];
  for (const k of ['uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp']) delete meta[k];
  const { status: _status, ...rest } = o;
  return withStringDataFolded({ ...rest, apiVersion: groupVersion(r), kind: r.kind, metadata: meta } as KubeObject);
}

export interface WriteContext {
  readonly kube: KubeStore;
  readonly r: ResourceType;
  readonly namespace: string;
  readonly dryRun: boolean;
}

function requireNamespace(ctx: WriteContext): void {
  if (!ctx.r.namespaced) return;
  const ns = ctx.kube.store.get(
    refOf({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false } as ResourceType, '', ctx.namespace),
  );
  if (!ns) throw new ApiStatusError('NotFound', `namespaces "${ctx.namespace}" not found`, { name: ctx.namespace, kind: 'namespaces' });
}

function current(ctx: WriteContext, name: string): StoredEntry {
  const entry = ctx.kube.store.get(refOf(ctx.r, ctx.namespace, name));
  if (!entry) throw new ApiStatusError('NotFound', `${qualifiedResource(ctx.r)} "${name}" not found`, { name, kind: ctx.r.plural });
  return entry;
}

/** Objects aks-emu's controllers made (a Deployment's pods, nodes, EndpointSlices of selector Services) are theirs alone. */
function ownedByUser(ctx: WriteContext, entry: StoredEntry): void {
  if (entry.owner === 'user') return;
  const owner = (entry.object.metadata['ownerReferences'] as { kind: string; name: string }[] | undefined)?.[0];
  const by = owner ? ` by ${owner.kind} "${owner.name}"` : ' by aks-emu';
  throw new ApiStatusError('Forbidden', `${qualifiedResource(ctx.r)} "${entry.ref.name}" is managed${by}; change the object that owns it instead`, {
    name: entry.ref.name,
    kind: ctx.r.plural,
  });
}

async function commit(ctx: WriteContext, plan: () => Change[], ref: ObjectRef, fallback: () => KubeObject): Promise<KubeObject> {
  await ctx.kube.write(plan, { dryRun: ctx.dryRun });
  return ctx.kube.store.get(ref)?.object ?? fallback();
}

export function create(ctx: WriteContext, body: unknown): Promise<KubeObject> {
  const object = userObject(ctx.r, ctx.namespace, undefined, body);
  if (object.metadata.resourceVersion) throw new ApiStatusError('BadRequest', 'resourceVersion should not be set on objects to be created');
  const ref = refOf(ctx.r, ctx.namespace, object.metadata.name);
  return commit(
    ctx,
    () => {
      requireNamespace(ctx);
      return [{ op: 'put', ref, owner: 'user', object, create: true }];
    },
    ref,
    () => object,
  );
}

function nextVersion(entry: StoredEntry, object: KubeObject): KubeObject {
  return keepAllocated(entry.object, object);
}

export function update(ctx: WriteContext, name: string, body: unknown): Promise<KubeObject> {
  const object = userObject(ctx.r, ctx.namespace, name, body);
  const ref = refOf(ctx.r, ctx.namespace, name);
  return commit(
    ctx,
    () => {
      const entry = current(ctx, name);
      ownedByUser(ctx, entry);
      const expect = object.metadata.resourceVersion;
      return [{ op: 'put', ref, owner: 'user', object: nextVersion(entry, object), ...(expect ? { expectVersion: expect } : {}) }];
    },
    ref,
    () => object,
  );
}

export function applyPatch(type: string, target: KubeObject, patch: unknown): unknown {
  switch (type) {
    case 'application/merge-patch+json':
      return mergePatch(target, patch);
    case 'application/json-patch+json':
      return jsonPatch(target, patch);
    case 'application/strategic-merge-patch+json':
    case 'application/apply-patch+yaml':
      return strategicMergePatch(target, patch);
    default:
      throw new ApiStatusError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}

/**
 * PATCH: the three patch types, and server-side apply (`application/apply-patch+yaml`),
 * which creates the object when it is missing and otherwise merges the applied fields in.
 */
export function patch(ctx: WriteContext, name: string, type: string, body: unknown, force: boolean): Promise<KubeObject> {
  // A custom resource has no patch strategy to merge lists by, so the API server takes no strategic merge patch for it.
  if (ctx.r.custom && type === 'application/strategic-merge-patch+json')
    throw new ApiStatusError(
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  const ref = refOf(ctx.r, ctx.namespace, name);
  let result: KubeObject | undefined;
  return commit(
    ctx,
    () => {
      const entry = ctx.kube.store.get(ref);
      if (!entry && type === 'application/apply-patch+yaml') {
        requireNamespace(ctx);
        result = userObject(ctx.r, ctx.namespace, name, body);
        return [{ op: 'put', ref, owner: 'user', object: result, create: true }];
      }
      if (!entry) current(ctx, name);
      ownedByUser(ctx, entry!);
      if (type === 'application/apply-patch+yaml' && !force) checkApplyConflicts(ctx, entry!, body);
      const patched = applyPatch(type, entry!.object, body);
      result = userObject(ctx.r, ctx.namespace, name, patched);
      if (type === 'application/apply-patch+yaml' && force) result = withoutScaledBy(result);
      const expect = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
      return [{ op: 'put', ref, owner: 'user', object: nextVersion(entry!, result), ...(expect ? { expectVersion: expect } : {}) }];
    },
    ref,
    () => result!,
  );
}

/**
 * Server-side apply without field ownership: a field the applied config sets to a value
 * other than the one stored, while the stored object was last written by a different
 * manager, is a conflict unless forced (kubectl apply --server-side --force-conflicts).
 * Only `spec.replicas` is checked, the conflict users meet (apply after kubectl scale).
 */
function checkApplyConflicts(ctx: WriteContext, entry: StoredEntry, body: unknown): void {
  const applied = (body as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
  const stored = (entry.object['spec'] as { replicas?: unknown } | undefined)?.replicas;
  const scaledBy = entry.object.metadata.annotations?.['aks-emu.io/scaled-by'];
  if (applied !== undefined && stored !== undefined && applied !== stored && scaledBy !== undefined) {
    throw new ApiStatusError('Conflict', `Apply failed with 1 conflict: conflict with "${scaledBy}" using ${groupVersion(ctx.r)}: .spec.replicas`, {
      name: entry.ref.name,
      kind: ctx.r.plural,
      causes: [{ reason: 'FieldManagerConflict', message: `conflict with "${scaledBy}" using ${groupVersion(ctx.r)}`, field: '.spec.replicas' }],
    });
  }
}

/** A forced apply takes spec.replicas over from whoever scaled last. */
function withoutScaledBy(object: KubeObject): KubeObject {
  const { 'aks-emu.io/scaled-by': _by, ...annotations } = object.metadata.annotations ?? {};
  return { ...object, metadata: { ...object.metadata, annotations } };
}

export async function remove(ctx: WriteContext, name: string): Promise<KubeObject> {
  const ref = refOf(ctx.r, ctx.namespace, name);
  let deleted: KubeObject | undefined;
  await ctx.kube.write(
    () => {
      const entry = current(ctx, name);
      ownedByUser(ctx, entry);
      deleted = entry.object;
      const changes: Change[] = [{ op: 'delete', ref }];
      // Deleting a namespace deletes what is in it.
      if (ctx.r.kind === 'Namespace') for (const e of ctx.kube.store.entries('user')) if (e.ref.namespace === name) changes.push({ op: 'delete', ref: e.ref });
      return changes;
    },
    { dryRun: ctx.dryRun },
  );
  return deleted!;
}

export function scaleOf(object: KubeObject) {
  const spec = (object['spec'] as Json | undefined) ?? {};
  const status = (object['status'] as Json | undefined) ?? {};
  const matchLabels = ((spec['selector'] as Json | undefined)?.['matchLabels'] ?? {}) as Record<string, string>;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: spec['replicas'] ?? 1 },
    status: {
      replicas: Number(status['replicas'] ?? 0),
      selector: Object.entries(matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/** PUT or PATCH of `<workload>/scale`: only spec.replicas changes. */
export function scale(ctx: WriteContext, name: string, type: string, body: unknown, manager: string): Promise<KubeObject> {
  const ref = refOf(ctx.r, ctx.namespace, name);
  return commit(
    ctx,
    () => {
      const entry = current(ctx, name);
      ownedByUser(ctx, entry);
      const next =
        type === 'application/json'
          ? body
          : applyPatch(type === 'application/apply-patch+yaml' ? 'application/merge-patch+json' : type, scaleOf(entry.object) as unknown as KubeObject, body);
      const replicas = (next as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
        throw invalid(ctx.r, name, 'spec.replicas', replicas ?? null, 'must be greater than or equal to 0');
      const spec = { ...((entry.object['spec'] as Json | undefined) ?? {}), replicas };
      const annotations = { ...(entry.object.metadata.annotations ?? {}), 'aks-emu.io/scaled-by': manager };
      return [{ op: 'put', ref, owner: 'user', object: { ...entry.object, metadata: { ...entry.object.metadata, annotations }, spec } }];
    },
    ref,
    () => current(ctx, name).object,
  );
}
