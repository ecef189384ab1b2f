import type { Snapshot } from '../cluster/snapshot.js';

/** Remembers when each object first appeared in a snapshot: its creationTimestamp and AGE. */
export class CreationClock {
  readonly #times = new Map<string, string>();

  observe(snapshot: Snapshot): void {
    const now = snapshot.generatedAt;
    const see = (kind: string, key: string) => {
      const id = `${kind}:${key}`;
      if (!this.#times.has(id)) this.#times.set(id, now);
    };
    for (const n of snapshot.nodes) see('Node', n.name);
    for (const p of snapshot.pods) see('Pod', `${p.namespace}/${p.name}`);
    for (const i of snapshot.ingress ? Object.keys(snapshot.ingress.statuses) : []) see('Ingress', i);
    for (const s of snapshot.services) {
      see('Service', `${s.namespace}/${s.name}`);
      see('EndpointSlice', `${s.namespace}/${s.name}`);
    }
  }

  /** ISO time the object first appeared (now, for one never seen). */
  readonly get = (kind: string, key: string): string => {
    const id = kind === 'EndpointSlice' ? `${kind}:${key.replace(/-[a-z0-9]{5}$/, '')}` : `${kind}:${key}`;
    return this.#times.get(id) ?? new Date().toISOString();
  };
}
