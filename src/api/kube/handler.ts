/**
 * The Kubernetes API over the object store: discovery, health, list/get/watch with
 * selectors and Table output, and the writes of ./writes.ts. Anything else under /api or
 * /apis is a 404 or 405 Status in the API server's words.
 */
import type { KubeObject, StoreEvent } from '../../cluster/store/index.js';
import { ApiStatusError } from '../../errors/index.js';
import { mediaType } from '../http/guard.js';
import { send, type ApiExtension, type RequestContext } from '../server.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { KubeStore } from './kube-store.js';
import { validateFields } from './field-validation.js';
import { openApiDocument } from './openapi.js';
import { resolveApiPath, type ApiPath } from './request.js';
import { GROUPS, groupVersion, qualifiedResource, refOf, type ResourceType } from './resources.js';
import { fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { toTable, wantsTable } from './table.js';
import { serveWatch } from './watch.js';
import { evictPod, writeNode } from './node-writes.js';
import { create, parseBody, patch, remove, scale, scaleOf, update, type WriteContext } from './writes.js';

export interface KubeApiOptions {
  /** Interval of BOOKMARK events on watches that allow them (default 60 s). */
  readonly bookmarkIntervalMs?: number;
}

const HEALTH = new Set(['healthz', 'livez', 'readyz']);

/**
 * Secret values are shown when asked for by name (GET of one Secret, what `kubectl get secret
 * NAME -o yaml` and `kubectl apply` read) or with the admin token; lists and watches of
 * Secrets carry the keys with empty values. kubectl sends no credentials to an http://
 * server, so the token cannot be what decides for kubectl.
 */
function redact(object: KubeObject, authenticated: boolean): KubeObject {
  if (authenticated || object.kind !== 'Secret') return object;
  const data = (object['data'] as Record<string, string> | undefined) ?? {};
  return {
    ...object,
    data: Object.fromEntries(Object.keys(data).map((k) => [k, ''])),
    metadata: {
      ...object.metadata,
      annotations: { ...object.metadata.annotations, 'aks-emu.io/redacted': 'values are shown when the Secret is read by name' },
    },
  };
}

export function createKubeApi(kube: KubeStore, options: KubeApiOptions = {}): ApiExtension {
  return {
    async handle(ctx) {
      const { segments } = ctx.target;
      if (segments.length >= 1 && HEALTH.has(segments[0]!) && ctx.method === 'GET') {
        send(ctx.res, 200, 'ok');
        return true;
      }
      if (segments.length === 1 && segments[0] === 'version') return answer(ctx, versionInfo());
      if (segments[0] === 'openapi') return answer(ctx, openApiDocument(segments.slice(1)));
      if (segments.length === 1 && segments[0] === 'api') return answer(ctx, apiVersions(String(ctx.req.headers.host ?? '')));
      if (segments.length === 1 && segments[0] === 'apis') return answer(ctx, apiGroupList());
      if (segments.length === 2 && segments[0] === 'apis') {
        const g = GROUPS.find((x) => x.name === segments[1]);
        return g ? answer(ctx, apiGroup(g.name, g.versions)) : false;
      }
      const path = resolveApiPath(segments, ctx.target.path);
      if (!path) return false;
      await serve(kube, options, ctx, path);
      return true;
    },
  };
}

function answer(ctx: RequestContext, value: unknown): boolean {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
    throw new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${ctx.method} ${ctx.target.path})`);
  if (value === undefined) throw new ApiStatusError('NotFound', `the server could not find the requested resource (${ctx.target.path})`);
  send(ctx.res, 200, value);
  return true;
}

function methodNotAllowed(ctx: RequestContext): ApiStatusError {
  return new ApiStatusError('MethodNotAllowed', `the server does not allow this method on the requested resource (${ctx.method} ${ctx.target.path})`);
}

async function serve(kube: KubeStore, options: KubeApiOptions, ctx: RequestContext, path: ApiPath): Promise<void> {
  if (path.type === 'group-version') {
    answer(ctx, apiResourceList(path.group, path.version));
    return;
  }
  const { resource: r, namespace, name, subresource } = path;
  const q = ctx.target.query;
  const authenticated = ctx.authenticated;
  const dryRun = q.getAll('dryRun').includes('All');
  const write = (ns: string): WriteContext => ({ kube, r, namespace: ns, dryRun });
  const type = mediaType(ctx.req.headers['content-type']);
  const body = async () => parseBody(await ctx.body(), type);
  /** A whole object (create, replace, server-side apply): its fields are checked against the schema. */
  const objectBody = async () => {
    const object = await body();
    validateFields(r, object, q.get('fieldValidation'), ctx.res);
    return object;
  };

  if (name === undefined) {
    if (ctx.method === 'GET') return list(kube, options, ctx, r, namespace, authenticated);
    if (ctx.method === 'POST' && namespace !== undefined && r.writable) {
      const created = await create(write(namespace), await objectBody());
      return send(ctx.res, dryRun ? 200 : 201, created);
    }
    throw methodNotAllowed(ctx);
  }
  const ns = namespace ?? '';
  const entry = () => {
    const e = kube.store.get(refOf(r, ns, name));
    if (!e) throw new ApiStatusError('NotFound', `${qualifiedResource(r)} "${name}" not found`, { name, kind: r.plural });
    return e.object;
  };
  if (subresource === undefined) {
    if (ctx.method === 'GET') {
      const object = entry();
      if (!wantsTable(ctx.req.headers.accept)) return send(ctx.res, 200, object);
      return send(ctx.res, 200, toTable(r.kind, [object], object.metadata.resourceVersion ?? '', q.get('includeObject'), Date.now()));
    }
    if (r.kind === 'Node' && (ctx.method === 'PUT' || ctx.method === 'PATCH'))
      return send(ctx.res, 200, await writeNode(write(ns), name, ctx.method, ctx.target.path, type, await body()));
    if (!r.writable) throw methodNotAllowed(ctx);
    if (ctx.method === 'PUT') return send(ctx.res, 200, await update(write(ns), name, await objectBody()));
    if (ctx.method === 'PATCH') {
      const patchBody = type === 'application/apply-patch+yaml' ? await objectBody() : await body();
      return send(ctx.res, 200, await patch(write(ns), name, type, patchBody, q.get('force') === 'true'));
    }
    if (ctx.method === 'DELETE') return send(ctx.res, 200, await remove(write(ns), name));
    throw methodNotAllowed(ctx);
  }
  if (r.kind === 'Pod' && (subresource === 'portforward' || subresource === 'exec' || subresource === 'attach')) {
    throw new ApiStatusError(
      'BadRequest',
      `pods/${subresource} is not served by aks-emu: pods are in-process listeners, not containers; every pod IP (${'kubectl get pods -o wide'}) and LoadBalancer IP is reachable from this machine directly`,
    );
  }
  if (!r.subresources.includes(subresource as never))
    throw new ApiStatusError('NotFound', `the server could not find the requested resource (${ctx.target.path})`);
  switch (subresource) {
    case 'status':
      // Status is written by aks-emu's controllers, as the kubelet and controllers do on AKS.
      if (ctx.method === 'GET') return send(ctx.res, 200, entry());
      throw methodNotAllowed(ctx);
    case 'scale':
      if (ctx.method === 'GET') return send(ctx.res, 200, scaleOf(entry()));
      if (ctx.method === 'PUT' || ctx.method === 'PATCH') {
        const manager = q.get('fieldManager') ?? 'kubectl';
        return send(ctx.res, 200, scaleOf(await scale(write(ns), name, type, await body(), manager)));
      }
      throw methodNotAllowed(ctx);
    case 'eviction':
      if (ctx.method === 'POST') return send(ctx.res, 201, await evictPod(write(ns), name, ctx.target.path, await body()));
      throw methodNotAllowed(ctx);
    default:
      throw methodNotAllowed(ctx);
  }
}

function list(kube: KubeStore, options: KubeApiOptions, ctx: RequestContext, r: ResourceType, namespace: string | undefined, authenticated: boolean): void {
  const q = ctx.target.query;
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'), r.kind);
  const matches = (o: KubeObject) => labelsMatch(labels, o.metadata.labels) && fieldsMatch(fields, o);
  const table = wantsTable(ctx.req.headers.accept);
  const includeObject = q.get('includeObject');
  const render = (o: KubeObject) =>
    table ? toTable(r.kind, [redact(o, authenticated)], o.metadata.resourceVersion ?? '', includeObject, Date.now()) : redact(o, authenticated);
  if (q.get('watch') === 'true' || q.get('watch') === '1') {
    const filter = (e: StoreEvent) => e.ref.group === r.group && e.ref.kind === r.kind && (namespace === undefined || e.ref.namespace === namespace);
    const timeout = Number(q.get('timeoutSeconds') ?? 1800);
    serveWatch(
      kube,
      ctx.res,
      {
        resourceVersion: q.get('resourceVersion'),
        matches,
        render,
        bookmarks: q.get('allowWatchBookmarks') === 'true',
        timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, 3600) : 1800,
        bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
        kind: r.kind,
        apiVersion: groupVersion(r),
      },
      filter,
    );
    return;
  }
  const items = kube.store
    .list(r.group, r.kind, namespace)
    .map((e) => e.object)
    .filter(matches)
    .map((o) => redact(o, authenticated));
  const resourceVersion = String(kube.store.resourceVersion);
  if (table) return send(ctx.res, 200, toTable(r.kind, items, resourceVersion, includeObject, Date.now()));
  send(ctx.res, 200, { kind: `${r.kind}List`, apiVersion: groupVersion(r), metadata: { resourceVersion }, items });
}
