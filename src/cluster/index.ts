/**
 * The control plane: pure functions from manifests, configuration and runtime facts to
 * an allocation (kept across re-applies) and an immutable snapshot. No sockets, no
 * timers; randomness and time are passed in.
 */
export { allocate, type Allocation, type AllocateResult, type FrontendAllocation, type PodPlacement } from './allocate.js';
export { buildSnapshot, type BuildSnapshotInput, type RuntimeFacts } from './build-snapshot.js';
export { nodePortKey } from './allocators/node-port.js';
export type * from './snapshot.js';
