/**
 * Every pod kind this build knows, registered by importing its file. A new kind adds its
 * file here and its variant to PodKind (cluster/snapshot.ts).
 */
import './echo.js';
import './ingress-controller.js';
import './container.js';
import './process.js';
import './gateway.js';

export {
  choosePodKind,
  createPodRuntime,
  podKindNames,
  registerPodKind,
  type ChooseContext,
  type ContainerPodFactory,
  type PodKindContext,
  type PodKindDefinition,
  type PodOfKind,
} from './registry.js';
