/**
 * `?watch=true`: a stream of WatchEvents (one JSON object per line, as the API server
 * sends them) from the store's history. Without a resourceVersion (or "0") the current
 * objects come first as ADDED; a resourceVersion older than the history is 410 Expired.
 * A MODIFIED that takes an object out of the selector is sent as DELETED, and one that
 * brings it in as ADDED. allowWatchBookmarks adds BOOKMARK events.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, StoreEvent } from '../../cluster/store/index.js';
import { ApiStatusError } from '../../errors/index.js';
import type { KubeStore } from './kube-store.js';

export interface WatchOptions {
  readonly resourceVersion: string | null;
  readonly matches: (object: KubeObject) => boolean;
  /** What each event's object becomes (a Table row for kubectl get -w, redacted Secrets). */
  readonly render: (object: KubeObject) => unknown;
  readonly bookmarks: boolean;
  readonly timeoutSeconds: number;
  readonly bookmarkIntervalMs: number;
  readonly kind: string;
  readonly apiVersion: string;
}

type Outgoing = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };

function translate(e: StoreEvent, matches: (o: KubeObject) => boolean): Outgoing | undefined {
  const now = matches(e.object);
  if (e.type !== 'MODIFIED') return now ? { type: e.type, object: e.object } : undefined;
  const before = e.previous ? matches(e.previous) : false;
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: e.object };
  return before ? { type: 'DELETED', object: e.object } : undefined;
}

export function serveWatch(kube: KubeStore, res: ServerResponse, options: WatchOptions, filter: (e: StoreEvent) => boolean): void {
  const store = kube.store;
  const rv = options.resourceVersion;
  let backlog: Outgoing[];
  if (rv === null || rv === '' || rv === '0') {
    backlog = store
      .entries()
      .filter((e) => filter({ type: 'ADDED', ref: e.ref, object: e.object, resourceVersion: 0 }) && options.matches(e.object))
      .sort((a, b) => Number(a.object.metadata.resourceVersion) - Number(b.object.metadata.resourceVersion))
      .map((e) => ({ type: 'ADDED', object: e.object }));
  } else {
    const from = Number(rv);
    if (!Number.isInteger(from) || from < 0) throw new ApiStatusError('BadRequest', `invalid resource version: ${JSON.stringify(rv)}`);
    const events = store.since(from);
    if (events === 'expired') throw new ApiStatusError('Expired', `too old resource version: ${from} (${store.resourceVersion})`);
    backlog = events.filter(filter).flatMap((e) => translate(e, options.matches) ?? []);
  }
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  // A watch with nothing to send yet still answers: clients wait for the headers.
  res.flushHeaders();
  const write = (event: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify(event)}\n`);
  };
  const sendEvent = (o: Outgoing) => write({ type: o.type, object: options.render(o.object) });
  const bookmark = () =>
    write({ type: 'BOOKMARK', object: { kind: options.kind, apiVersion: options.apiVersion, metadata: { resourceVersion: String(store.resourceVersion) } } });
  for (const o of backlog) sendEvent(o);
  if (options.bookmarks) bookmark();
  const unsubscribe = store.subscribe((events) => {
    for (const e of events) {
      if (!filter(e)) continue;
      const o = translate(e, options.matches);
      if (o) sendEvent(o);
    }
  });
  const ticker = options.bookmarks ? setInterval(bookmark, options.bookmarkIntervalMs) : undefined;
  const timeout = setTimeout(() => res.end(), options.timeoutSeconds * 1000);
  const stop = () => {
    forget();
    unsubscribe();
    if (ticker) clearInterval(ticker);
    clearTimeout(timeout);
  };
  const forget = kube.onClose(() => {
    stop();
    res.end();
  });
  res.on('close', stop);
}
