/**
 * The object store wired to a running cluster: every user write is checked as
 * `aks-emu validate` checks manifests (parse, then allocation and the ingress checks of the
 * whole candidate set) and only then committed and applied to the cluster, one write at a
 * time; after each snapshot the controllers' view (pods, endpoints, status) is written back.
 */
import { ObjectStore, objectKey, type Change, type KubeObject, type StoreEvent, type StoredEntry } from '../../cluster/store/index.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { ManifestInvalidError, type FieldError } from '../../errors/index.js';
import { ParsedObjects, parseObjects, type RawObject } from '../../manifests/index.js';
import { stableUid } from '../../manifests/uid.js';
import type { Manifests } from '../../model/types.js';
import type { CreationTimes } from '../kube-objects.js';
import { keepAllocated, withStringDataFolded } from './allocated-fields.js';
import { mirrorChanges } from './mirror.js';
import { eventChanges, eventsOfChanges, type EventRecord } from './events.js';
import { LoadBalancerSyncEvents } from './load-balancer-events.js';
import { refOf, resourceOfKind } from './resources.js';
import type { NodeControl } from './node-writes.js';

/** What the store needs from a cluster runtime (the embedded cluster provides it). */
export interface ClusterLink {
  readonly snapshot: Snapshot;
  /** What the cluster runs: user objects plus the built-in ones. */
  readonly manifests: Manifests;
  readonly created: { get: CreationTimes };
  /** Every error the manifest set has (allocation, ingress checks), nothing changed. */
  check(manifests: Manifests): readonly FieldError[];
  apply(manifests: Manifests): Promise<void>;
  on(event: 'snapshot' | 'probe' | 'readiness', listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- EventEmitter's own signature
  off(event: 'snapshot' | 'probe' | 'readiness', listener: (...args: any[]) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- EventEmitter's own signature
  /** Node labels / cordon and pod eviction; a runtime without them answers those writes 405. */
  nodeMeta?: NodeControl['nodeMeta'];
  setNodeMeta?: NodeControl['setNodeMeta'];
  evictPod?: NodeControl['evictPod'];
}

export interface WriteOptions {
  /** dryRun=All: validate, change nothing. */
  readonly dryRun?: boolean;
}

export class KubeStore {
  /**
   * A new object without a uid gets the one the manifests layer gives it (stableUid of kind,
   * namespace and name), so the API and the snapshot agree: cloud-provider-azure names a
   * Service's frontend, rules and probes after its uid, and a uid that changed at the first
   * kubectl apply renamed them and reset their probe state.
   */
  readonly store = new ObjectStore({ now: () => new Date(), newUid: (o) => stableUid(o.kind, o.metadata.namespace ?? '', o.metadata.name) });
  readonly #link: ClusterLink;
  readonly #onSnapshot = () => this.mirror();
  readonly #onProbe = (t: { loadBalancer: string; probe: string; node: string; state: 'up' | 'down' }) =>
    this.#recordSoon([
      {
        involved: { apiVersion: 'v1', kind: 'Node', namespace: '', name: t.node },
        type: t.state === 'up' ? 'Normal' : 'Warning',
        reason: t.state === 'up' ? 'LoadBalancerProbeUp' : 'LoadBalancerProbeDown',
        message: `Azure load balancer ${t.loadBalancer}: health probe ${t.probe} marks this node ${t.state}`,
        component: 'aks-emu-load-balancer',
      },
    ]);
  readonly #onReadiness = (e: { podKey: string; ready: boolean; reason: string }) => {
    if (e.ready) return;
    const [namespace, name] = e.podKey.split('/') as [string, string];
    this.#recordSoon([
      {
        involved: { apiVersion: 'v1', kind: 'Pod', namespace, name },
        type: 'Warning',
        reason: 'Unhealthy',
        message: `Readiness probe failed: ${e.reason}`,
        component: 'kubelet',
      },
    ]);
  };
  #queue: Promise<unknown> = Promise.resolve();
  /** Clean reads of the stored objects: a write reads only the objects it changed (and those whose document number moved). */
  readonly #parsed = new ParsedObjects();
  #log: (line: string) => void;
  readonly #lbSync = new LoadBalancerSyncEvents();

  constructor(link: ClusterLink, log: (line: string) => void = () => {}) {
    this.#link = link;
    this.#log = log;
    link.on('snapshot', this.#onSnapshot);
    link.on('probe', this.#onProbe);
    link.on('readiness', this.#onReadiness);
    // A controller's status write replaces a user's object with one that reads the same.
    this.store.subscribe((events) => {
      for (const e of events) if (e.type === 'MODIFIED' && e.previous !== undefined) this.#parsed.carry(e.previous, e.object);
    });
  }

  #pending: EventRecord[] = [];
  #flush: NodeJS.Immediate | undefined;

  /**
   * Probe and readiness transitions come in bursts (every node of every LB rule at start):
   * they are written once per turn of the event loop, one commit for the lot, since each
   * commit costs in proportion to the store's size.
   */
  #recordSoon(records: readonly EventRecord[]): void {
    this.#pending.push(...records);
    this.#flush ??= setImmediate(() => {
      this.#flush = undefined;
      const batch = this.#pending;
      this.#pending = [];
      this.record(batch);
    });
  }

  /** Writes Events (controller-owned, never validated). */
  record(records: readonly EventRecord[]): void {
    if (records.length > 0) this.store.commit(eventChanges(this.store, records, new Date()));
  }

  /** The objects the cluster was started from, taken as written by their user. */
  seed(objects: readonly RawObject[]): void {
    this.store.commit(userPuts(objects));
    this.mirror();
    this.#readStored();
  }

  /**
   * Reads the stored user objects once, so that the first write reads only what it
   * changes (#parsed keeps clean reads per stored object). A set that does not read
   * cleanly is left to the writes, whose validation reports it.
   */
  #readStored(): void {
    try {
      parseObjects(rawObjects(this.store.entries('user')), { fieldValidation: 'Ignore', reuse: this.#parsed });
    } catch (err) {
      if (!(err instanceof ManifestInvalidError)) throw err;
      this.#log(`object store: the stored objects do not read cleanly, the next write will report it: ${err.message}`);
    }
  }

  /**
   * Makes the user objects of `scope` (all when undefined) exactly `objects`: the library's
   * apply and `up --watch` (scope: what the files held last time). Returns the new scope.
   */
  async replace(objects: readonly RawObject[], scope?: ReadonlySet<string>): Promise<Set<string>> {
    const puts = userPuts(objects);
    const keep = new Set<string>(puts.map((c) => objectKey(c.ref)));
    await this.write(() => {
      const deletes: Change[] = this.store
        .entries('user')
        .filter((e) => !keep.has(objectKey(e.ref)) && (scope === undefined || scope.has(objectKey(e.ref))))
        .map((e) => ({ op: 'delete', ref: e.ref }));
      return [...deletes, ...puts.map((c) => ({ ...c, object: keepAllocated(this.store.get(c.ref)?.object, c.object) }))];
    });
    return keep;
  }

  readonly #closers = new Set<() => void>();

  /** Open watches end when the store closes. */
  onClose(fn: () => void): () => void {
    this.#closers.add(fn);
    return () => this.#closers.delete(fn);
  }

  close(): void {
    this.#link.off('snapshot', this.#onSnapshot);
    this.#link.off('probe', this.#onProbe);
    this.#link.off('readiness', this.#onReadiness);
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    this.#pending = [];
    for (const fn of this.#closers) fn();
    this.#closers.clear();
  }

  /** What the last mirror() saw; the same again (a write's apply already mirrored its snapshot) has nothing to write. */
  #mirrored: { readonly snapshot: Snapshot; readonly manifests: Manifests; readonly version: number } | undefined;

  /** Brings the controllers' objects in line with the current snapshot. */
  mirror(): void {
    const snapshot = this.#link.snapshot;
    const manifests = this.#link.manifests;
    const last = this.#mirrored;
    if (last !== undefined && last.snapshot === snapshot && last.manifests === manifests && last.version === this.store.resourceVersion) return;
    const changes = mirrorChanges({ snapshot, manifests, created: this.#link.created.get, entries: this.store.entries() });
    const events = eventsOfChanges(this.store, changes, snapshot);
    if (changes.length > 0) this.store.commit(changes);
    this.record([...events, ...this.#lbSync.of(snapshot)]);
    this.#mirrored = { snapshot, manifests, version: this.store.resourceVersion };
  }

  /** The runtime's node and eviction controls, when it has them. */
  get nodeControl(): NodeControl | undefined {
    const link = this.#link;
    if (!link.nodeMeta || !link.setNodeMeta || !link.evictPod) return undefined;
    return { nodeMeta: (n) => link.nodeMeta!(n), setNodeMeta: (n, m) => link.setNodeMeta!(n, m), evictPod: (k) => link.evictPod!(k) };
  }

  /** Runs a change that goes to the cluster rather than the store, in turn with the writes, then mirrors. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const result = await fn();
      this.mirror();
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs one write after the previous ones: `plan` sees the store as it is then (a patch
   * reads what it patches), the result is validated whole, committed, applied, mirrored.
   */
  write(plan: () => readonly Change[], options: WriteOptions = {}): Promise<StoreEvent[]> {
    const run = this.#queue.then(async () => {
      const changes = plan();
      let manifests: Manifests | undefined;
      if (options.dryRun) {
        this.#validate(this.#candidate(changes));
        return [];
      }
      const events = this.store.commit(changes, (entries) => {
        manifests = this.#validate(entries);
      });
      if (manifests) {
        try {
          await this.#link.apply(manifests);
        } catch (err) {
          this.#log(`object store: the cluster refused a validated change: ${(err as Error).message}`);
          throw err;
        }
      }
      this.mirror();
      return events;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The user objects a set of changes would leave (for dry runs). */
  #candidate(changes: readonly Change[]): StoredEntry[] {
    const byKey = new Map<string, StoredEntry>(this.store.entries('user').map((e) => [objectKey(e.ref), e]));
    for (const c of changes) {
      const key = objectKey(c.ref);
      if (c.op === 'delete') byKey.delete(key);
      else if (c.owner === 'user') byKey.set(key, { ref: c.ref, owner: 'user', object: c.object });
    }
    return [...byKey.values()];
  }

  #validate(entries: readonly StoredEntry[]): Manifests {
    const raw = rawObjects(entries);
    // Unknown fields were dealt with where the objects came in (the API's fieldValidation
    // directive, `aks-emu up --validate`); objects kept after a warning must not fail later writes.
    const { manifests } = parseObjects(raw, { fieldValidation: 'Ignore', reuse: this.#parsed });
    const errors = this.#link.check(manifests);
    if (errors.length > 0) throw new ManifestInvalidError(errors);
    return manifests;
  }
}

/** Stored objects as the manifests layer reads them: file `<api>`, one document each, in store order. */
function rawObjects(entries: readonly StoredEntry[]): RawObject[] {
  return entries.map((e, i) => ({ file: '<api>', doc: i + 1, object: e.object }));
}

/** The store keys of the objects in a set of manifests. */
export function userObjectKeys(objects: readonly RawObject[]): string[] {
  return userPuts(objects).map((c) => objectKey(c.ref));
}

function userPuts(objects: readonly RawObject[]): Extract<Change, { op: 'put' }>[] {
  const changes: Extract<Change, { op: 'put' }>[] = [];
  for (const raw of objects) {
    for (const object of unfold(raw.object)) {
      const r = resourceOfKind(object.apiVersion, object.kind);
      if (!r) continue;
      const namespace = r.namespaced ? (object.metadata.namespace ?? 'default') : '';
      const withNs = withStringDataFolded({ ...object, metadata: { ...object.metadata, ...(r.namespaced ? { namespace } : {}) } });
      changes.push({ op: 'put', ref: refOf(r, namespace, object.metadata.name), owner: 'user', object: withNs });
    }
  }
  return changes;
}

/** `kind: List` and typed lists unfold into their items, as kubectl does. */
function unfold(value: unknown): KubeObject[] {
  if (!value || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  if (typeof o['kind'] === 'string' && o['kind'].endsWith('List') && Array.isArray(o['items'])) return o['items'].flatMap(unfold);
  const meta = o['metadata'] as Record<string, unknown> | undefined;
  if (typeof o['apiVersion'] !== 'string' || typeof o['kind'] !== 'string' || typeof meta?.['name'] !== 'string') return [];
  return [o as unknown as KubeObject];
}
