import { describe, expect, it } from 'vitest';
import { buildEndpoints, resolveTargetPort, serviceEndpoints, usableEndpoints } from '../../src/cluster/endpoints.js';
import type { Endpoint, PodInfo } from '../../src/cluster/snapshot.js';
import { container, endpointSlice, service, servicePort } from './factories.js';

function pod(name: string, over: Partial<PodInfo> = {}): PodInfo {
  return {
    namespace: 'default',
    name,
    uid: `uid-${name}`,
    nodeName: 'node-0',
    ip: `127.244.0.${name.length + 1}`,
    labels: { app: 'web' },
    annotations: {},
    ownerKind: 'Pod',
    ownerName: name,
    containers: [container('app', [{ name: 'http', containerPort: 8080 }])],
    phase: 'Running',
    ready: true,
    runtime: { kind: 'echo' },
    source: { file: 't.yaml', doc: 1 },
    ...over,
  };
}

const web = (input: Parameters<typeof service>[1] = {}) => service('web', { selector: { app: 'web' }, ...input });

describe('endpoints of Services with a selector', () => {
  it('selects pods of the same namespace whose labels include the selector, sorted by pod name', () => {
    const pods = [
      pod('web-b', { ip: '127.244.0.3' }),
      pod('web-a', { ip: '127.244.1.2', nodeName: 'node-1', labels: { app: 'web', tier: 'front' } }),
      pod('other', { labels: { app: 'other' } }),
      pod('elsewhere', { namespace: 'prod' }),
      pod('pending', { ip: '', phase: 'Pending', nodeName: '' }),
    ];
    const [port] = serviceEndpoints(web(), pods, []).ports;
    expect(port!.endpoints.map((e) => [e.podName, e.ip, e.port, e.nodeName])).toEqual([
      ['web-a', '127.244.1.2', 80, 'node-1'],
      ['web-b', '127.244.0.3', 80, 'node-0'],
    ]);
  });

  it('resolves a named targetPort per pod and leaves out pods without that port', () => {
    const pods = [
      pod('a', { containers: [container('app', [{ name: 'http', containerPort: 8080 }])] }),
      pod('b', { containers: [container('app', [{ name: 'http', containerPort: 9090 }])] }),
      pod('c', { containers: [container('app', [{ name: 'metrics', containerPort: 9100 }])] }),
    ];
    const [port] = serviceEndpoints(web({ ports: [{ port: 80, targetPort: 'http' }] }), pods, []).ports;
    expect(port!.endpoints.map((e) => [e.podName, e.port])).toEqual([
      ['a', 8080],
      ['b', 9090],
    ]);
  });

  it('matches a named targetPort only on the same protocol', () => {
    const p = pod('a', { containers: [container('app', [{ name: 'dns', containerPort: 53, protocol: 'TCP' }])] });
    expect(resolveTargetPort(p, servicePort({ port: 53, protocol: 'UDP', targetPort: 'dns' }))).toBeUndefined();
    expect(resolveTargetPort(p, servicePort({ port: 53, protocol: 'TCP', targetPort: 'dns' }))).toBe(53);
  });

  it('uses a numeric targetPort even when the pod does not declare it', () => {
    const [port] = serviceEndpoints(web({ ports: [{ port: 80, targetPort: 7777 }] }), [pod('a')], []).ports;
    expect(port!.endpoints[0]!.port).toBe(7777);
  });

  it('publishes unready pods as not ready and sends traffic only to ready ones', () => {
    const [port] = serviceEndpoints(web(), [pod('a', { ready: false }), pod('b')], []).ports;
    expect(port!.endpoints.map((e) => [e.podName, e.ready, e.serving, e.terminating])).toEqual([
      ['a', false, false, false],
      ['b', true, true, false],
    ]);
    expect(port!.usable.map((e) => e.podName)).toEqual(['b']);
  });

  it('has no usable endpoints when no pod is ready', () => {
    const [port] = serviceEndpoints(web(), [pod('a', { ready: false })], []).ports;
    expect(port!.usable).toEqual([]);
  });

  it('publishes every pod as ready under publishNotReadyAddresses', () => {
    const [port] = serviceEndpoints(web({ publishNotReadyAddresses: true }), [pod('a', { ready: false }), pod('b')], []).ports;
    expect(port!.endpoints.map((e) => e.ready)).toEqual([true, true]);
    expect(port!.usable).toHaveLength(2);
  });

  it('gives headless Services endpoints too', () => {
    const [port] = serviceEndpoints(web({ clusterIP: 'None' }), [pod('a')], []).ports;
    expect(port!.endpoints).toHaveLength(1);
  });
});

describe('usable endpoints', () => {
  const e = (ip: string, ready: boolean, serving: boolean, terminating: boolean): Endpoint => ({ ip, port: 80, ready, serving, terminating });

  it('falls back to serving and terminating endpoints when none is ready', () => {
    const all = [e('10.0.0.1', false, true, true), e('10.0.0.2', false, false, true), e('10.0.0.3', false, false, false)];
    expect(usableEndpoints(all, false).map((x) => x.ip)).toEqual(['10.0.0.1']);
  });

  it('prefers ready endpoints over terminating ones', () => {
    const all = [e('10.0.0.1', false, true, true), e('10.0.0.2', true, true, false)];
    expect(usableEndpoints(all, false).map((x) => x.ip)).toEqual(['10.0.0.2']);
  });
});

describe('endpoints of Services without a selector', () => {
  it('come from the EndpointSlices that name the Service, ports matched by name', () => {
    const svc = service('db', {
      selector: undefined,
      ports: [
        { name: 'sql', port: 5432 },
        { name: 'admin', port: 8080 },
      ],
    });
    const slices = [
      endpointSlice(
        'db',
        [
          { addresses: ['10.1.0.9', '10.1.0.8'], nodeName: 'node-1' },
          { addresses: ['10.1.0.7'], ready: false },
        ],
        [{ name: 'sql', port: 15432 }],
      ),
      endpointSlice('db', [{ addresses: ['10.1.0.6'] }], [{ name: 'sql', port: 15432 }], { namespace: 'other' }),
      endpointSlice('cache', [{ addresses: ['10.1.0.5'] }], [{ name: 'sql', port: 15432 }]),
    ];
    const [sql, admin] = serviceEndpoints(svc, [], slices).ports;
    expect(sql!.endpoints.map((x) => [x.ip, x.port, x.ready, x.nodeName])).toEqual([
      ['10.1.0.7', 15432, false, undefined],
      ['10.1.0.8', 15432, true, 'node-1'],
      ['10.1.0.9', 15432, true, 'node-1'],
    ]);
    expect(sql!.usable.map((x) => x.ip)).toEqual(['10.1.0.8', '10.1.0.9']);
    expect(admin!.endpoints).toEqual([]);
  });

  it('treats an empty selector as no selector', () => {
    const svc = service('db', { selector: {} });
    const [port] = serviceEndpoints(svc, [pod('a', { labels: {} })], [endpointSlice('db', [{ addresses: ['10.1.0.1'] }], [{ port: 80 }])]).ports;
    expect(port!.endpoints.map((x) => x.ip)).toEqual(['10.1.0.1']);
  });
});

describe('endpoints of all Services', () => {
  it('skips ExternalName Services and sorts by Service key', () => {
    const list = buildEndpoints(
      [service('z'), service('ext', { type: 'ExternalName', externalName: 'example.com' }), service('a', { namespace: 'prod' })],
      [],
      [],
    );
    expect(list.map((s) => s.serviceKey)).toEqual(['default/z', 'prod/a']);
  });
});
