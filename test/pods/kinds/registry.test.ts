import { GatewayRouters } from '../../../src/pods/gateway.js';
import { describe, expect, it } from 'vitest';
import { choosePodKind, createPodRuntime, podKindNames, registerPodKind } from '../../../src/pods/kinds/index.js';
import { RUNTIME_ANNOTATION } from '../../../src/cluster/pod-info.js';
import type { DesiredPod } from '../../../src/cluster/workload-pods.js';
import { defaultConfig } from '../../../src/config/defaults.js';
import { realClock } from '../../../src/dataplane/clock.js';
import { pod } from '../pod-fixture.js';

const DEFAULT_CONFIG = defaultConfig();
const EMPTY = { services: [], workloads: [], endpointSlices: [], secrets: [], namespaces: [], ingresses: [], ingressClasses: [], skipped: [] };

const desired = (annotations: Record<string, string> = {}): DesiredPod => ({
  namespace: 'default',
  name: 'web-0',
  uid: 'u',
  labels: {},
  annotations,
  ownerKind: 'Pod',
  ownerName: 'web-0',
  source: { file: 'x.yaml', doc: 1 },
  spec: { nodeSelector: {}, containers: [{ name: 'web', image: 'nginx', ports: [] }], initContainers: [], hostNetwork: false },
});

describe('pod kind registry', () => {
  it('gives a pod no kind claims to the echo pod', () => {
    expect(choosePodKind(desired(), { config: DEFAULT_CONFIG, manifests: EMPTY })).toEqual({ kind: 'echo' });
  });

  it('lets the ingress controller claim the pods of its Deployment', () => {
    expect(choosePodKind(desired({ [RUNTIME_ANNOTATION]: 'ingress-controller' }), { config: DEFAULT_CONFIG, manifests: EMPTY })).toEqual({
      kind: 'ingress-controller',
    });
  });

  it('knows each kind once and refuses a second registration', () => {
    expect(podKindNames()).toEqual(expect.arrayContaining(['echo', 'ingress-controller']));
    expect(() => registerPodKind({ name: 'echo', order: 1, create: () => undefined as never })).toThrow(/registered twice/);
  });

  it('creates the runtime of the kind the snapshot names', () => {
    const runtime = createPodRuntime(pod('web-0', '127.244.0.2', []), {
      nodeName: 'node-0',
      nodeAddress: '127.224.0.4',
      getRouter: () => undefined,
      gateways: new GatewayRouters(),
      clock: realClock,
      timeScale: 1,
      log: () => {},
      services: () => [],
      dnsRecords: () => [],
      statusChanged: () => {},
    });
    expect(runtime.pod.runtime).toEqual({ kind: 'echo' });
  });
});
