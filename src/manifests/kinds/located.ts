import type { ObjectMeta, Source } from '../../model/types.js';

/** Where an object came from and its normalised metadata: the part every kind shares. */
export interface Located {
  readonly source: Source;
  readonly metadata: ObjectMeta;
}
