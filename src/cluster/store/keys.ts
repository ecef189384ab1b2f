/** Where an object lives in the store: its group, kind, namespace ('' when cluster-scoped) and name. */
export interface ObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `<plural>[.<group>]` as the API server names it in messages (`services "web" not found`). */
  readonly resource: string;
}

export type ObjectKey = string & { readonly __objectKey: unique symbol };

export function objectKey(ref: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>): ObjectKey {
  return `${ref.group}/${ref.kind}/${ref.namespace}/${ref.name}` as ObjectKey;
}
