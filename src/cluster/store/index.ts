export {
  isStoredFrom,
  ObjectStore,
  type Change,
  type KubeObject,
  type ObjectMetaJson,
  type Owner,
  type StoreEvent,
  type StoredEntry,
  type Validator,
  type WatchEventType,
} from './object-store.js';
export { objectKey, type ObjectKey, type ObjectRef } from './keys.js';
