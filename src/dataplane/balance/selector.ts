/** One endpoint-selection policy: picks an item for a new connection, undefined if none. */
export interface Selector<T> {
  select(items: readonly T[]): T | undefined;
}
