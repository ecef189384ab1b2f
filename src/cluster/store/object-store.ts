/**
 * The object store in front of the control plane, shaped like the API server's storage:
 * objects keyed by group/kind/namespace/name, one cluster-wide resourceVersion that every
 * write advances, a validation hook that sees the whole candidate set before anything
 * changes, and a bounded history of changes that watches resume from (older → Expired).
 *
 * Pure: no sockets, no timers; uids and timestamps come from injected functions.
 */
import { ApiStatusError } from '../../errors/index.js';
import { objectKey, type ObjectRef } from './keys.js';

export type KubeObject = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMetaJson;
  readonly [field: string]: unknown;
};

export interface ObjectMetaJson {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** Who wrote an object: users (through the API or manifest files) or aks-emu's controllers. */
export type Owner = 'user' | 'controller';

export interface StoredEntry {
  readonly ref: ObjectRef;
  readonly owner: Owner;
  readonly object: KubeObject;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly ref: ObjectRef;
  readonly object: KubeObject;
  /** The object before a MODIFIED (a watch with a selector turns leaving it into DELETED). */
  readonly previous?: KubeObject;
  readonly resourceVersion: number;
}

export type Change =
  | {
      readonly op: 'put';
      readonly ref: ObjectRef;
      readonly owner: Owner;
      readonly object: KubeObject;
      readonly expectVersion?: string;
      /** Refuse with AlreadyExists when the object exists. */
      readonly create?: boolean;
      /** A controller writing status (or allocated fields): not validated again. */
      readonly status?: boolean;
    }
  | { readonly op: 'delete'; readonly ref: ObjectRef; readonly expectVersion?: string };

/** Sees every user object the write would leave, in order; throws to refuse the write. */
export type Validator = (userObjects: readonly StoredEntry[]) => void;

export interface ObjectStoreOptions {
  readonly now: () => Date;
  /** The uid of a new object that brings none (called with it, so a uid may be derived from its identity). */
  readonly newUid: (object: KubeObject) => string;
  /** How many changes watches can resume from (default 10,000). */
  readonly historyLimit?: number;
}

export class ObjectStore {
  readonly #entries = new Map<string, StoredEntry>();
  readonly #history: StoreEvent[] = [];
  readonly #listeners = new Set<(events: readonly StoreEvent[]) => void>();
  readonly #options: ObjectStoreOptions;
  #version = 0;

  constructor(options: ObjectStoreOptions) {
    this.#options = options;
  }

  get resourceVersion(): number {
    return this.#version;
  }

  get(ref: ObjectRef): StoredEntry | undefined {
    return this.#entries.get(objectKey(ref));
  }

  /** Every object of a kind (optionally one namespace), in key order as etcd lists them. */
  list(group: string, kind: string, namespace?: string): StoredEntry[] {
    const out: StoredEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.ref.group === group && entry.ref.kind === kind && (namespace === undefined || entry.ref.namespace === namespace)) out.push(entry);
    }
    return out.sort((a, b) => (objectKey(a.ref) < objectKey(b.ref) ? -1 : 1));
  }

  entries(owner?: Owner): StoredEntry[] {
    return [...this.#entries.values()].filter((e) => owner === undefined || e.owner === owner);
  }

  /**
   * Applies every change or none: preconditions (exists, resourceVersion), then the
   * validator over the resulting user objects, then one version per changed object.
   * Puts whose object is unchanged record nothing.
   */
  commit(changes: readonly Change[], validate?: Validator): StoreEvent[] {
    const next = new Map(this.#entries);
    const planned: { type: WatchEventType; key: string; change: Change }[] = [];
    for (const change of changes) {
      const key = objectKey(change.ref);
      const current = next.get(key);
      if (change.expectVersion !== undefined && current && current.object.metadata.resourceVersion !== change.expectVersion) {
        throw conflict(change.ref, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      if (change.op === 'delete') {
        if (!current) throw notFound(change.ref);
        next.delete(key);
        planned.push({ type: 'DELETED', key, change });
        continue;
      }
      if (current && change.create)
        throw new ApiStatusError('AlreadyExists', `${describeRef(change.ref)} already exists`, { name: change.ref.name, kind: change.ref.kind });
      if (current && sameContent(current.object, change.object) && current.owner === change.owner) {
        // A frozen object of the same content: the next put of it is known unchanged without comparing.
        if (Object.isFrozen(change.object)) storedFrom.set(current.object, change.object);
        continue;
      }
      next.set(key, { ref: change.ref, owner: change.owner, object: change.object });
      planned.push({ type: current ? 'MODIFIED' : 'ADDED', key, change });
    }
    if (planned.length === 0) return [];
    const needsValidation = planned.some((p) =>
      p.change.op === 'delete' ? this.#entries.get(p.key)?.owner === 'user' : p.change.owner === 'user' && !p.change.status,
    );
    if (validate && needsValidation) {
      validate([...next.values()].filter((e) => e.owner === 'user'));
    }
    const events: StoreEvent[] = [];
    for (const { type, key, change } of planned) {
      const rv = ++this.#version;
      if (change.op === 'delete') {
        const old = this.#entries.get(key)!;
        this.#entries.delete(key);
        events.push({ type, ref: change.ref, object: withVersion(old.object, rv, old.object.metadata), resourceVersion: rv });
        continue;
      }
      const old = this.#entries.get(key);
      const object = withVersion(change.object, rv, this.#identity(old?.object, change.object, change.status === true));
      if (Object.isFrozen(change.object)) storedFrom.set(object, change.object);
      this.#entries.set(key, { ref: change.ref, owner: change.owner, object });
      events.push({ type, ref: change.ref, object, resourceVersion: rv, ...(old ? { previous: old.object } : {}) });
    }
    this.#history.push(...events);
    const excess = this.#history.length - (this.#options.historyLimit ?? 10_000);
    if (excess > 0) this.#history.splice(0, excess);
    for (const listener of this.#listeners) listener(events);
    return events;
  }

  /** Changes after `resourceVersion`, or 'expired' when the history no longer reaches back that far. */
  since(resourceVersion: number): readonly StoreEvent[] | 'expired' {
    const oldest = this.#history[0]?.resourceVersion ?? this.#version + 1;
    if (resourceVersion < oldest - 1 && resourceVersion < this.#version) return 'expired';
    return this.#history.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: (events: readonly StoreEvent[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** uid and creationTimestamp stay for the object's life; generation counts spec changes. */
  #identity(old: KubeObject | undefined, object: KubeObject, byController: boolean): Partial<ObjectMetaJson> {
    const specChanged = !old || (!byController && JSON.stringify(old['spec']) !== JSON.stringify(object['spec']));
    const generation = (old?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    return {
      uid: old?.metadata.uid ?? object.metadata.uid ?? this.#options.newUid(object),
      creationTimestamp:
        old?.metadata.creationTimestamp ??
        object.metadata.creationTimestamp ??
        this.#options
          .now()
          .toISOString()
          .replace(/\.\d+Z$/, 'Z'),
      generation,
    };
  }
}

function withVersion(object: KubeObject, rv: number, identity: Partial<ObjectMetaJson>): KubeObject {
  return deepFreeze({ ...object, metadata: { ...object.metadata, ...identity, resourceVersion: String(rv) } });
}

/**
 * The content of stored objects as sameContent compares it, made once per object: stored
 * objects are frozen, and the controllers put every pod, EndpointSlice and status again
 * after each snapshot, so without it each commit serialised every stored object anew.
 */
const contentOfStored = new WeakMap<KubeObject, string>();

function contentOf(o: KubeObject): string {
  const { resourceVersion: _rv, generation: _g, uid: _u, creationTimestamp: _c, ...meta } = o.metadata;
  return JSON.stringify({ ...o, metadata: meta });
}

/** contentOf, made once for a frozen object (a stored one, or one a controller puts again unchanged). */
function contentOfFrozen(o: KubeObject): string {
  if (!Object.isFrozen(o)) return contentOf(o);
  let content = contentOfStored.get(o);
  if (content === undefined) contentOfStored.set(o, (content = contentOf(o)));
  return content;
}

/**
 * The frozen object each stored object was made from (withVersion adds only what contentOf
 * leaves out): a controller that puts that same object again has changed nothing, and
 * neither needs serialising.
 */
const storedFrom = new WeakMap<KubeObject, KubeObject>();

/**
 * Whether `stored` (an object of the store) was made from `object`: a put of `object` by the
 * same owner again changes nothing, and its writer need not hand it to commit at all.
 */
export function isStoredFrom(stored: KubeObject, object: KubeObject): boolean {
  return storedFrom.get(stored) === object;
}

/** Same object apart from what the store itself maintains; `stored` is an object of the store. */
function sameContent(stored: KubeObject, b: KubeObject): boolean {
  return isStoredFrom(stored, b) || contentOfFrozen(stored) === contentOfFrozen(b);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.resource} "${ref.name}"`;
}

function notFound(ref: ObjectRef): ApiStatusError {
  return new ApiStatusError('NotFound', `${describeRef(ref)} not found`, { name: ref.name, kind: ref.resource });
}

function conflict(ref: ObjectRef, why: string): ApiStatusError {
  return new ApiStatusError('Conflict', `Operation cannot be fulfilled on ${ref.resource} "${ref.name}": ${why}`, { name: ref.name, kind: ref.resource });
}
