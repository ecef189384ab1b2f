/**
 * Pods and the apps/v1 controllers that make them, normalised into one Workload shape.
 * Checks follow ValidateDeploymentSpec / ValidateStatefulSetSpec / ValidateDaemonSetSpec
 * (pkg/apis/apps/validation): a required, non-empty selector that the template's labels
 * satisfy, non-negative replicas, and a valid pod template.
 */
import type { Workload, WorkloadKind } from '../../model/types.js';
import { validateLabels } from '../meta.js';
import { readInt, readObj, readObjList, readString, readStringList, readStringMap, type Obj } from '../read.js';
import type { Reporter } from '../reporter.js';
import { isDNS1123Label } from '../validation/names.js';
import type { Located } from './located.js';
import { readPodSpec } from './pod-spec.js';

/** The word each validator uses in `empty selector is invalid for <word>` (ReplicaSet reuses Deployment's). */
const SELECTOR_WORD: Record<Exclude<WorkloadKind, 'Pod' | 'ReplicationController'>, string> = {
  Deployment: 'deployment',
  ReplicaSet: 'deployment',
  StatefulSet: 'statefulset',
  DaemonSet: 'daemonset',
};

export function readPod(r: Reporter, object: Obj, located: Located): Workload {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const { labels, annotations } = located.metadata;
  return { kind: 'Pod', ...located, replicas: 1, selector: labels, template: { labels, annotations, spec: readPodSpec(r, spec, 'spec') } };
}

/**
 * matchLabels, plus matchExpressions that say the same thing (`In` with one value);
 * the model's selector is a plain label map, so other expressions cannot be kept.
 */
function readSelector(r: Reporter, spec: Obj, kind: ControllerKind): Record<string, string> | undefined {
  const raw = readObj(r, spec, 'selector', 'spec');
  if (raw === undefined) {
    r.required('spec.selector');
    return undefined;
  }
  const selector = { ...readStringMap(r, raw, 'matchLabels', 'spec.selector') };
  const expressions = readObjList(r, raw, 'matchExpressions', 'spec.selector');
  for (const { item, path } of expressions) {
    const key = readString(r, item, 'key', path) ?? '';
    const operator = readString(r, item, 'operator', path) ?? '';
    const values = readStringList(r, item, 'values', path);
    const only = values[0];
    if (operator === 'In' && values.length === 1 && only !== undefined) selector[key] = only;
    else r.invalid(path, item, "aks-emu supports matchLabels and single-value 'In' expressions only");
  }
  validateLabels(r, selector, 'spec.selector');
  if (Object.keys(selector).length === 0 && expressions.length === 0) {
    r.invalid('spec.selector', raw, `empty selector is invalid for ${SELECTOR_WORD[kind]}`);
  }
  return selector;
}

type ControllerKind = Exclude<WorkloadKind, 'Pod' | 'ReplicationController'>;

/** StatefulSet spec.serviceName, a DNS-1123 label (ValidateStatefulSetSpec); optional since Kubernetes 1.30. */
function readServiceName(r: Reporter, spec: Obj): { serviceName?: string } {
  const serviceName = readString(r, spec, 'serviceName', 'spec') || undefined;
  if (serviceName === undefined) return {};
  r.invalidEach('spec.serviceName', serviceName, isDNS1123Label(serviceName));
  return { serviceName };
}

export function readController(r: Reporter, object: Obj, located: Located, kind: ControllerKind): Workload {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const replicasRaw = readInt(r, spec, 'replicas', 'spec') ?? 1;
  if (replicasRaw < 0) r.invalid('spec.replicas', replicasRaw, 'must be greater than or equal to 0');
  const selector = readSelector(r, spec, kind);

  const template = readObj(r, spec, 'template', 'spec') ?? {};
  const templateMeta = readObj(r, template, 'metadata', 'spec.template') ?? {};
  const labels = readStringMap(r, templateMeta, 'labels', 'spec.template.metadata') ?? {};
  validateLabels(r, labels, 'spec.template.metadata.labels');
  const annotations = readStringMap(r, templateMeta, 'annotations', 'spec.template.metadata') ?? {};
  if (selector !== undefined && Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    r.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
  }
  const podSpec = readPodSpec(r, readObj(r, template, 'spec', 'spec.template') ?? {}, 'spec.template.spec');
  return {
    kind,
    ...located,
    // A DaemonSet runs one pod per eligible node; it has no replica count.
    replicas: kind === 'DaemonSet' ? 0 : Math.max(0, replicasRaw),
    selector: selector ?? {},
    template: { labels, annotations, spec: podSpec },
    ...(kind === 'StatefulSet' ? readServiceName(r, spec) : {}),
  };
}

/**
 * v1 ReplicationController (ValidateReplicationControllerSpec, SetDefaults_ReplicationController):
 * `spec.selector` is a plain label map, defaulted to the template's labels; the template is
 * required and its labels must satisfy the selector.
 */
export function readReplicationController(r: Reporter, object: Obj, located: Located): Workload {
  const spec = readObj(r, object, 'spec', '') ?? {};
  const replicasRaw = readInt(r, spec, 'replicas', 'spec') ?? 1;
  if (replicasRaw < 0) r.invalid('spec.replicas', replicasRaw, 'must be greater than or equal to 0');
  const template = readObj(r, spec, 'template', 'spec');
  if (template === undefined) r.required('spec.template');
  const templateMeta = readObj(r, template ?? {}, 'metadata', 'spec.template') ?? {};
  const labels = readStringMap(r, templateMeta, 'labels', 'spec.template.metadata') ?? {};
  validateLabels(r, labels, 'spec.template.metadata.labels');
  const annotations = readStringMap(r, templateMeta, 'annotations', 'spec.template.metadata') ?? {};
  const written = readStringMap(r, spec, 'selector', 'spec') ?? {};
  validateLabels(r, written, 'spec.selector');
  const selector = Object.keys(written).length > 0 ? written : labels;
  if (Object.keys(selector).length === 0) r.required('spec.selector');
  else if (template !== undefined && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    r.invalid('spec.template.metadata.labels', labels, 'selector does not match labels in spec.template');
  }
  const podSpec = readPodSpec(r, readObj(r, template ?? {}, 'spec', 'spec.template') ?? {}, 'spec.template.spec');
  return { kind: 'ReplicationController', ...located, replicas: Math.max(0, replicasRaw), selector, template: { labels, annotations, spec: podSpec } };
}
