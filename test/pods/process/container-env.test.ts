import { describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../../src/cluster/snapshot.js';
import { containerEnv, declaredEnv, expand, serviceEnv } from '../../../src/pods/process/container-env.js';
import { pod } from '../pod-fixture.js';

const service = (name: string, namespace: string, clusterIP: string, ports: { name: string; port: number }[]) =>
  ({ name, namespace, clusterIP, ports: ports.map((p) => ({ ...p, protocol: 'TCP', targetPort: p.port })) }) as unknown as ServiceInfo;

const located = (name: string) => ({ source: { file: 'x', doc: 1 }, metadata: { name, namespace: 'default', uid: 'u', labels: {}, annotations: {} } });
const MANIFESTS = {
  services: [],
  workloads: [],
  endpointSlices: [],
  namespaces: [],
  ingresses: [],
  ingressClasses: [],
  skipped: [],
  configMaps: [{ kind: 'ConfigMap' as const, ...located('cfg'), data: { MODE: 'fast', 'bad key': 'x' } }],
  secrets: [{ kind: 'Secret' as const, ...located('sec'), type: 'Opaque', data: { TOKEN: Buffer.from('t0k').toString('base64') } }],
} as never;

describe('a container environment as kubelet makes it', () => {
  it('gives each Service of the namespace its variables and the Docker link ones', () => {
    const env = serviceEnv(
      [
        service('order-service', 'default', '10.0.0.7', [
          { name: 'http', port: 3000 },
          { name: 'admin', port: 9000 },
        ]),
        service('other', 'kube-system', '10.0.0.8', [{ name: '', port: 1 }]),
        service('headless', 'default', 'None', [{ name: '', port: 1 }]),
      ],
      'default',
    );
    expect(env).toEqual({
      ORDER_SERVICE_SERVICE_HOST: '10.0.0.7',
      ORDER_SERVICE_SERVICE_PORT: '3000',
      ORDER_SERVICE_SERVICE_PORT_HTTP: '3000',
      ORDER_SERVICE_SERVICE_PORT_ADMIN: '9000',
      ORDER_SERVICE_PORT: 'tcp://10.0.0.7:3000',
      ORDER_SERVICE_PORT_3000_TCP: 'tcp://10.0.0.7:3000',
      ORDER_SERVICE_PORT_3000_TCP_PROTO: 'tcp',
      ORDER_SERVICE_PORT_3000_TCP_PORT: '3000',
      ORDER_SERVICE_PORT_3000_TCP_ADDR: '10.0.0.7',
      ORDER_SERVICE_PORT_9000_TCP: 'tcp://10.0.0.7:9000',
      ORDER_SERVICE_PORT_9000_TCP_PROTO: 'tcp',
      ORDER_SERVICE_PORT_9000_TCP_PORT: '9000',
      ORDER_SERVICE_PORT_9000_TCP_ADDR: '10.0.0.7',
    });
  });

  it('resolves env and envFrom from ConfigMaps and Secrets, skipping keys that are not variable names', () => {
    const container = {
      name: 'c',
      image: 'i',
      ports: [],
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'cfg', optional: false } }],
      env: [
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'TOKEN', optional: false } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'URL', value: 'http://$(IP):$(CFG_MODE)/$$(IP)' },
      ],
    };
    const { env, error } = declaredEnv(container, 'default', MANIFESTS, { EXTRA: '1' });
    expect(error).toBeUndefined();
    const p = pod('web-0', '127.244.0.9', []);
    expect(containerEnv(p, '127.224.0.4', env, [])).toEqual({
      CFG_MODE: 'fast',
      TOKEN: 't0k',
      IP: '127.244.0.9',
      URL: 'http://127.244.0.9:fast/$(IP)',
      EXTRA: '1',
    });
  });

  it('says what kubelet says when a referenced key or object is missing, unless optional', () => {
    const ref = (name: string, key: string, optional = false) => ({ name: 'X', valueFrom: { configMapKeyRef: { name, key, optional } } });
    const base = { name: 'c', image: 'i', ports: [] };
    expect(declaredEnv({ ...base, env: [ref('cfg', 'NOPE')] }, 'default', MANIFESTS, {}).error).toBe("couldn't find key NOPE in ConfigMap default/cfg");
    expect(declaredEnv({ ...base, env: [ref('gone', 'A')] }, 'default', MANIFESTS, {}).error).toBe('configmap "gone" not found');
    expect(declaredEnv({ ...base, env: [ref('gone', 'A', true)] }, 'default', MANIFESTS, {}).error).toBeUndefined();
  });

  it('leaves an undefined $(VAR) as written', () => {
    expect(expand('$(NOPE)-$(A)', { A: 'a' })).toBe('$(NOPE)-a');
  });
});
