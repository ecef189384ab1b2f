import { describe, expect, it } from 'vitest';
import { ObjectStore, type KubeObject, type ObjectRef } from '../../../src/cluster/store/index.js';
import { ApiStatusError } from '../../../src/errors/index.js';

const ref = (name: string): ObjectRef => ({ group: '', kind: 'ConfigMap', namespace: 'default', name, resource: 'configmaps' });
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default' },
  data,
});

function store(historyLimit?: number) {
  let n = 0;
  return new ObjectStore({ now: () => new Date('2026-01-01T00:00:00Z'), newUid: () => `uid-${++n}`, ...(historyLimit ? { historyLimit } : {}) });
}

describe('ObjectStore', () => {
  it('gives every write a new cluster-wide resourceVersion and keeps uid and creationTimestamp', () => {
    const s = store();
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }]);
    s.commit([{ op: 'put', ref: ref('b'), owner: 'user', object: cm('b') }]);
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a', { k: 'v' }) }]);
    const a = s.get(ref('a'))!.object;
    expect(a.metadata).toMatchObject({ resourceVersion: '3', uid: 'uid-1', creationTimestamp: '2026-01-01T00:00:00Z' });
    expect(s.resourceVersion).toBe(3);
  });

  it('records nothing for a put that changes nothing', () => {
    const s = store();
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }]);
    expect(s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }])).toEqual([]);
    expect(s.resourceVersion).toBe(1);
  });

  it('refuses a stale resourceVersion with Conflict and a create of an existing object with AlreadyExists', () => {
    const s = store();
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }]);
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a', { k: '1' }) }]);
    expect(() => s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a', { k: '2' }), expectVersion: '1' }])).toThrow(
      expect.objectContaining({ reason: 'Conflict' }),
    );
    expect(() => s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a'), create: true }])).toThrow(
      expect.objectContaining({ reason: 'AlreadyExists' }),
    );
    expect(() => s.commit([{ op: 'delete', ref: ref('zz') }])).toThrow(expect.objectContaining({ reason: 'NotFound' }));
  });

  it('changes nothing when the validator refuses the candidate set', () => {
    const s = store();
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }]);
    const refuse = () => {
      throw new ApiStatusError('Invalid', 'no');
    };
    expect(() =>
      s.commit(
        [
          { op: 'put', ref: ref('b'), owner: 'user', object: cm('b') },
          { op: 'delete', ref: ref('a') },
        ],
        refuse,
      ),
    ).toThrow('no');
    expect(s.get(ref('a'))).toBeDefined();
    expect(s.get(ref('b'))).toBeUndefined();
    expect(s.resourceVersion).toBe(1);
  });

  it('replays changes after a resourceVersion and says expired once the history no longer reaches it', () => {
    const s = store(3);
    for (const name of ['a', 'b', 'c', 'd', 'e']) s.commit([{ op: 'put', ref: ref(name), owner: 'user', object: cm(name) }]);
    expect(s.since(3)).toEqual([expect.objectContaining({ resourceVersion: 4 }), expect.objectContaining({ resourceVersion: 5 })]);
    expect(s.since(2)).toHaveLength(3);
    expect(s.since(1)).toBe('expired');
    expect(s.since(5)).toEqual([]);
  });

  it('tells subscribers each committed event with the previous object of a MODIFIED', () => {
    const s = store();
    const seen: string[] = [];
    s.subscribe((events) => seen.push(...events.map((e) => `${e.type} ${e.ref.name} ${e.previous ? 'had-previous' : ''}`.trim())));
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a') }]);
    s.commit([{ op: 'put', ref: ref('a'), owner: 'user', object: cm('a', { x: 'y' }) }]);
    s.commit([{ op: 'delete', ref: ref('a') }]);
    expect(seen).toEqual(['ADDED a', 'MODIFIED a had-previous', 'DELETED a']);
  });
});
