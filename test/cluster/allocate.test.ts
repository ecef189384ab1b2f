import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/cluster/index.js';
import { formatLocatedFieldError } from '../../src/errors/index.js';
import { config, deployment, fixedRandom, loadBalancer, manifests, seeded, service } from './factories.js';

const A = 'service.beta.kubernetes.io/';

describe('allocate', () => {
  it('allocates ClusterIPs, NodePorts, health check ports, frontends and pods in one JSON-serialisable result', () => {
    const m = manifests({
      services: [service('api'), loadBalancer('web', { externalTrafficPolicy: 'Local' })],
      workloads: [deployment('web', { replicas: 2 })],
    });
    const { allocation, errors } = allocate(m, config(), seeded(1));
    expect(errors).toEqual([]);
    expect(Object.keys(allocation.clusterIPs)).toEqual(['default/api', 'default/web']);
    expect(Object.keys(allocation.nodePorts)).toEqual(['default/web:80/TCP']);
    expect(Object.keys(allocation.healthCheckNodePorts)).toEqual(['default/web']);
    expect(allocation.frontends['default/web']).toMatchObject({ loadBalancerName: 'kubernetes', ip: '127.20.0.1' });
    expect(Object.values(allocation.pods).map((p) => p.nodeName)).toEqual(['node-0', 'node-1']);
    expect(JSON.parse(JSON.stringify(allocation))).toEqual(allocation);
  });

  it('is deterministic for the same manifests and random source', () => {
    const m = manifests({ services: [service('a'), loadBalancer('b')], workloads: [deployment('a', { replicas: 3 })] });
    expect(allocate(m, config(), seeded(9)).allocation).toEqual(allocate(m, config(), seeded(9)).allocation);
  });

  it('reports every error at once, located and worded as the API server does', () => {
    const m = manifests({
      services: [
        service('one', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
        service('web', { type: 'NodePort', clusterIP: '10.9.9.9', ports: [{ port: 80, nodePort: 30080 }] }),
        loadBalancer('lb', { annotations: { [`${A}azure-load-balancer-tcp-idle-timeout`]: '2' } }),
      ],
    });
    const { errors } = allocate(m, config(), fixedRandom());
    expect(errors.map(formatLocatedFieldError)).toEqual([
      expect.stringMatching(
        /^test\.yaml \(document \d+\): The Service "web" is invalid: spec\.clusterIPs: Invalid value: \["10\.9\.9\.9"\]: failed to allocate IP 10\.9\.9\.9: the provided IP \(10\.9\.9\.9\) is not in the valid range\. The range of valid IPs is 127\.10\.0\.0\/16$/,
      ),
      expect.stringMatching(/The Service "web" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated$/),
      expect.stringMatching(
        /The Service "lb" is invalid: metadata\.annotations\[service\.beta\.kubernetes\.io\/azure-load-balancer-tcp-idle-timeout\]: Invalid value: "2": idle timeout value must be a whole number representing minutes between 4 and 100, actual value: 2$/,
      ),
    ]);
  });

  it('keeps every allocation of objects that remain when manifests are re-applied', () => {
    const before = manifests({
      services: [service('api'), loadBalancer('web', { externalTrafficPolicy: 'Local' }), service('gone', { type: 'NodePort' })],
      workloads: [deployment('web', { replicas: 2 }), deployment('gone')],
    });
    const first = allocate(before, config(), seeded(1)).allocation;
    const after = manifests({
      services: [service('new'), service('api'), loadBalancer('web', { externalTrafficPolicy: 'Local' })],
      workloads: [deployment('new', { replicas: 2 }), deployment('web', { replicas: 2 })],
    });
    const second = allocate(after, config(), seeded(2), first).allocation;
    expect(second.clusterIPs['default/api']).toBe(first.clusterIPs['default/api']);
    expect(second.clusterIPs['default/gone']).toBeUndefined();
    expect(second.nodePorts['default/web:80/TCP']).toBe(first.nodePorts['default/web:80/TCP']);
    expect(second.nodePorts['default/gone:80/TCP']).toBeUndefined();
    expect(second.healthCheckNodePorts).toEqual(first.healthCheckNodePorts);
    expect(second.frontends['default/web']).toEqual(first.frontends['default/web']);
    for (const [key, placement] of Object.entries(first.pods)) {
      if (key.startsWith('default/web-')) expect(second.pods[key]).toEqual(placement);
      else expect(second.pods[key]).toBeUndefined();
    }
  });
});
