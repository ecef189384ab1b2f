import { describe, expect, it } from 'vitest';
import { deployment, fieldErrors, load } from '../helpers.js';

const controller = (kind: string, spec: object) => ({ apiVersion: 'apps/v1', kind, metadata: { name: 'db' }, spec });
const template = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'mongo' }] } };

describe('workloads', () => {
  it('normalises a Deployment with the defaults Kubernetes applies', () => {
    const [w] = load([deployment({ replicas: undefined }, { readinessProbe: { httpGet: { port: 'http' } } })]).manifests.workloads;
    expect(w).toMatchObject({ kind: 'Deployment', replicas: 1, selector: { app: 'web' } });
    expect(w?.template.labels).toEqual({ app: 'web' });
    expect(w?.template.spec).toEqual({
      nodeSelector: {},
      hostNetwork: false,
      initContainers: [],
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          readinessProbe: {
            httpGet: { path: '/', port: 'http', scheme: 'HTTP', httpHeaders: [] },
            initialDelaySeconds: 0,
            periodSeconds: 10,
            timeoutSeconds: 1,
            successThreshold: 1,
            failureThreshold: 3,
          },
        },
      ],
    });
  });

  it('turns a bare Pod into a one-replica workload selected by its own labels', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug', labels: { run: 'debug' }, annotations: { note: 'x' } },
      spec: { nodeName: 'aks-nodepool1-12345678-vmss000001', containers: [{ name: 'sh', image: 'busybox' }] },
    };
    const [w] = load([pod]).manifests.workloads;
    expect(w).toMatchObject({ kind: 'Pod', replicas: 1, selector: { run: 'debug' } });
    expect(w?.template).toMatchObject({ labels: { run: 'debug' }, annotations: { note: 'x' } });
    expect(w?.template.spec.nodeName).toBe('aks-nodepool1-12345678-vmss000001');
  });

  it('reads StatefulSets, ReplicaSets and DaemonSets into the same shape', () => {
    const { workloads } = load([
      controller('StatefulSet', { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template }),
      { ...controller('ReplicaSet', { selector: { matchLabels: { app: 'db' } }, template }), metadata: { name: 'rs' } },
      { ...controller('DaemonSet', { selector: { matchLabels: { app: 'db' } }, template }), metadata: { name: 'ds' } },
    ]).manifests;
    expect(workloads.map((w) => [w.kind, w.replicas])).toEqual([
      ['StatefulSet', 2],
      ['ReplicaSet', 1],
      ['DaemonSet', 0],
    ]);
  });

  it('folds single-value In expressions into the selector and rejects the others', () => {
    const selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] };
    expect(load([controller('StatefulSet', { selector, template })]).manifests.workloads[0]?.selector).toEqual({ app: 'db' });
    const exists = { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] };
    expect(fieldErrors([controller('StatefulSet', { selector: exists, template })])).toEqual([
      `spec.selector.matchExpressions[0]: Invalid value: {"key":"tier","operator":"Exists"}: aks-emu supports matchLabels and single-value 'In' expressions only`,
    ]);
  });

  it('requires the template labels to match the selector', () => {
    const bad = deployment({ template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'web' }] } } });
    expect(fieldErrors([bad])).toEqual(['spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`']);
  });

  it('requires a non-empty selector', () => {
    expect(fieldErrors([controller('Deployment', { template })])).toEqual(['spec.selector: Required value']);
    expect(fieldErrors([controller('StatefulSet', { selector: {}, template })])).toEqual([
      'spec.selector: Invalid value: {}: empty selector is invalid for statefulset',
    ]);
  });

  it('rejects negative replicas', () => {
    expect(fieldErrors([deployment({ replicas: -1 })])).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('requires containers with unique DNS-label names', () => {
    expect(fieldErrors([controller('Deployment', { selector: { matchLabels: { app: 'db' } }, template: { metadata: template.metadata } })])).toEqual([
      'spec.template.spec.containers: Required value',
    ]);
    const containers = [{ name: 'app' }, { image: 'x' }, { name: 'app' }, { name: 'App' }];
    const initContainers = [{ name: 'app' }];
    const errors = fieldErrors([
      controller('Deployment', { selector: { matchLabels: { app: 'db' } }, template: { metadata: template.metadata, spec: { containers, initContainers } } }),
    ]);
    expect(errors.slice(0, 3)).toEqual([
      'spec.template.spec.containers[1].name: Required value',
      'spec.template.spec.containers[2].name: Duplicate value: "app"',
      `spec.template.spec.containers[3].name: Invalid value: "App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    expect(errors[3]).toBe('spec.template.spec.initContainers[0].name: Duplicate value: "app"');
  });

  it('checks container ports', () => {
    const ports = [{ containerPort: 70000 }, { name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81, protocol: 'HTTP' }, {}];
    expect(fieldErrors([deployment({}, { ports })])).toEqual([
      'spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.template.spec.containers[0].ports[2].name: Duplicate value: "http"',
      'spec.template.spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.template.spec.containers[0].ports[3].containerPort: Required value',
    ]);
  });
});

describe('probes', () => {
  const probeErrors = (container: object) => fieldErrors([deployment({}, container)]).map((e) => e.replace('spec.template.spec.containers[0].', ''));

  it('keeps the probe timing given and defaults the rest', () => {
    const probe = { tcpSocket: { port: 8080 }, initialDelaySeconds: 5, periodSeconds: 3, failureThreshold: 5 };
    const c = load([deployment({}, { livenessProbe: probe, startupProbe: { exec: { command: ['true'] } } })]).manifests.workloads[0]?.template.spec
      .containers[0];
    expect(c?.livenessProbe).toEqual({
      tcpSocket: { port: 8080 },
      initialDelaySeconds: 5,
      periodSeconds: 3,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 5,
    });
    expect(c?.startupProbe?.exec).toEqual({ command: ['true'] });
  });

  it('requires a probe port name to be one of the container ports', () => {
    expect(probeErrors({ readinessProbe: { httpGet: { path: '/health', port: 'web' } } })).toEqual([
      'readinessProbe.httpGet.port: Invalid value: "web": must be the name of a port of this container (containers[].ports[].name)',
    ]);
    expect(load([deployment({}, { readinessProbe: { tcpSocket: { port: 'http' } } })]).manifests.workloads).toHaveLength(1);
  });

  it('requires exactly one handler', () => {
    expect(probeErrors({ readinessProbe: { periodSeconds: 5 } })).toEqual(['readinessProbe: Required value: must specify a handler type']);
    expect(probeErrors({ livenessProbe: { httpGet: { port: 8080 }, tcpSocket: { port: 8080 } } })).toEqual([
      'livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type',
    ]);
  });

  it('checks probe fields', () => {
    expect(
      probeErrors({
        readinessProbe: { httpGet: { port: 0, scheme: 'FTP', httpHeaders: [{ name: 'Bad Header', value: 'x' }] }, periodSeconds: -1 },
        livenessProbe: { grpc: { port: 9090 }, successThreshold: 2 },
      }),
    ).toEqual([
      'readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"',
      `readinessProbe.httpGet.httpHeaders: Invalid value: "Bad Header": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')`,
      'readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0',
      'livenessProbe.successThreshold: Invalid value: 2: must be 1',
    ]);
  });
});
