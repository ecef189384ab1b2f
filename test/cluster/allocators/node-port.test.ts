import { describe, expect, it } from 'vitest';
import { allocateNodePorts, nodePortKey } from '../../../src/cluster/allocators/node-port.js';
import { formatFieldError } from '../../../src/errors/index.js';
import { fixedRandom, loadBalancer, seeded, service } from '../factories.js';

const nodePortService = (name: string, input: Parameters<typeof service>[1] = {}) => service(name, { type: 'NodePort', ...input });

describe('NodePort allocation', () => {
  it('gives a NodePort Service one port per ServicePort from the dynamic band 30086-32767', () => {
    const svc = nodePortService('web', {
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
    });
    const { nodePorts, errors } = allocateNodePorts([svc], fixedRandom(0));
    expect(errors).toEqual([]);
    expect(nodePorts).toEqual({ 'default/web:80/TCP': 30086, 'default/web:443/TCP': 30087 });
  });

  it('allocates random ports within the range and never twice', () => {
    const services = Array.from({ length: 40 }, (_, i) => nodePortService(`s${i}`));
    const { nodePorts } = allocateNodePorts(services, seeded(3));
    const values = Object.values(nodePorts);
    expect(new Set(values).size).toBe(40);
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(30086);
      expect(v).toBeLessThanOrEqual(32767);
    }
  });

  it('gives ClusterIP Services no NodePort', () => {
    expect(allocateNodePorts([service('a')], fixedRandom()).nodePorts).toEqual({});
  });

  it('gives LoadBalancer Services NodePorts unless allocateLoadBalancerNodePorts is false', () => {
    const on = loadBalancer('on');
    const off = loadBalancer('off', { allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }, { port: 81, nodePort: 30081 }] });
    const { nodePorts } = allocateNodePorts([on, off], fixedRandom(0));
    expect(nodePorts).toEqual({ 'default/on:80/TCP': 30086, 'default/off:81/TCP': 30081 });
  });

  it('honours a requested port, including the static band', () => {
    const { nodePorts, errors } = allocateNodePorts([nodePortService('a', { ports: [{ port: 80, nodePort: 30080 }] })], fixedRandom());
    expect(errors).toEqual([]);
    expect(nodePorts['default/a:80/TCP']).toBe(30080);
  });

  it('reports a port already allocated to another Service with kubectl wording', () => {
    const a = nodePortService('a', { ports: [{ port: 80, nodePort: 30080 }] });
    const b = nodePortService('web', { ports: [{ port: 80, nodePort: 30080 }] });
    const { errors } = allocateNodePorts([a, b], fixedRandom());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'web', field: 'spec.ports[0].nodePort' });
    expect(formatFieldError(errors[0]!)).toBe('spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
  });

  it('reports a port outside the range', () => {
    const { errors } = allocateNodePorts([nodePortService('a', { ports: [{ port: 80 }, { port: 81, nodePort: 29999 }] })], fixedRandom());
    expect(errors.map(formatFieldError)).toEqual([
      'spec.ports[1].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
  });

  it('lets the TCP and UDP ports of one Service share a number, but not two ports of one protocol', () => {
    const dns = nodePortService('dns', {
      ports: [
        { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
        { name: 'dns-udp', port: 53, protocol: 'UDP', nodePort: 30053 },
        { name: 'other', port: 54, protocol: 'UDP', nodePort: 30053 },
      ],
    });
    const { nodePorts, errors } = allocateNodePorts([dns], fixedRandom());
    expect(nodePorts).toEqual({ 'default/dns:53/TCP': 30053, 'default/dns:53/UDP': 30053 });
    expect(errors.map(formatFieldError)).toEqual(['spec.ports[2].nodePort: Duplicate value: 30053']);
  });

  it('reuses the NodePort of a same-numbered port of the Service for its other protocol', () => {
    const dns = nodePortService('dns', {
      ports: [
        { name: 'tcp', port: 53, protocol: 'TCP' },
        { name: 'udp', port: 53, protocol: 'UDP', nodePort: 31053 },
      ],
    });
    const { nodePorts } = allocateNodePorts([dns], fixedRandom(0));
    expect(nodePorts).toEqual({ 'default/dns:53/TCP': 31053, 'default/dns:53/UDP': 31053 });
  });

  it('never lets a random allocation take a port requested by a later Service', () => {
    const { nodePorts, errors } = allocateNodePorts(
      [nodePortService('random'), nodePortService('fixed', { ports: [{ port: 80, nodePort: 30086 }] })],
      fixedRandom(0),
    );
    expect(errors).toEqual([]);
    expect(nodePorts['default/fixed:80/TCP']).toBe(30086);
    expect(nodePorts['default/random:80/TCP']).toBe(30087);
  });

  it('falls back to the static band when the dynamic band is full, then reports a full range', () => {
    const ports = Array.from({ length: 2768 - 86 }, (_, i) => ({ port: 1000 + i, name: `p${i}` }));
    const big = nodePortService('big', { ports });
    const { nodePorts: first } = allocateNodePorts([big, nodePortService('next')], fixedRandom(0));
    expect(first['default/next:80/TCP']).toBe(30000);

    const statics = Array.from({ length: 86 }, (_, i) => ({ port: 5000 + i, name: `s${i}` }));
    const { errors } = allocateNodePorts([big, nodePortService('fill', { ports: statics }), nodePortService('late')], fixedRandom(0));
    expect(errors.map((e) => [e.name, formatFieldError(e)])).toEqual([
      ['late', 'spec.ports[0].nodePort: Invalid value: 0: failed to allocate a nodePort: range is full'],
    ]);
  });

  it('keeps previous ports of re-applied Services and releases the others', () => {
    const previous = { nodePorts: { 'default/a:80/TCP': 31000, 'default/gone:80/TCP': 30086 }, healthCheckNodePorts: {} };
    const { nodePorts } = allocateNodePorts([nodePortService('a'), nodePortService('b')], fixedRandom(0), previous);
    expect(nodePorts).toEqual({ 'default/a:80/TCP': 31000, 'default/b:80/TCP': 30086 });
  });

  it('keeps a re-applied Service port over a new Service requesting it', () => {
    const previous = { nodePorts: { 'default/old:80/TCP': 31000 }, healthCheckNodePorts: {} };
    const { nodePorts, errors } = allocateNodePorts(
      [nodePortService('new', { ports: [{ port: 80, nodePort: 31000 }] }), nodePortService('old')],
      fixedRandom(0),
      previous,
    );
    expect(nodePorts['default/old:80/TCP']).toBe(31000);
    expect(errors.map((e) => e.name)).toEqual(['new']);
  });

  it('keys NodePorts by Service, port number and protocol', () => {
    expect(nodePortKey('ns/web', { port: 443, protocol: 'UDP' })).toBe('ns/web:443/UDP');
  });
});

describe('healthCheckNodePort allocation', () => {
  it('allocates one for LoadBalancer Services with externalTrafficPolicy Local only', () => {
    const local = loadBalancer('local', { externalTrafficPolicy: 'Local' });
    const cluster = loadBalancer('cluster');
    const nodePortLocal = nodePortService('np', { externalTrafficPolicy: 'Local' });
    const { healthCheckNodePorts, nodePorts } = allocateNodePorts([local, cluster, nodePortLocal], fixedRandom(0));
    expect(Object.keys(healthCheckNodePorts)).toEqual(['default/local']);
    expect(new Set([...Object.values(nodePorts), ...Object.values(healthCheckNodePorts)]).size).toBe(4);
  });

  it('honours a requested healthCheckNodePort and reports a taken one', () => {
    const a = loadBalancer('a', { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
    const b = loadBalancer('b', { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
    const { healthCheckNodePorts, errors } = allocateNodePorts([a, b], fixedRandom(0));
    expect(healthCheckNodePorts['default/a']).toBe(32000);
    expect(errors.map(formatFieldError)).toEqual([
      'spec.healthCheckNodePort: Invalid value: 32000: failed to allocate requested HealthCheck NodePort 32000: provided port is already allocated',
    ]);
  });

  it('does not share a number between a NodePort and the health check port of one Service', () => {
    const a = loadBalancer('a', { externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: [{ port: 80, nodePort: 30500 }] });
    const { errors } = allocateNodePorts([a], fixedRandom(0));
    expect(errors.map((e) => e.field)).toEqual(['spec.healthCheckNodePort']);
  });

  it('keeps the previous health check port', () => {
    const a = loadBalancer('a', { externalTrafficPolicy: 'Local' });
    const { healthCheckNodePorts } = allocateNodePorts([a], fixedRandom(0), { nodePorts: {}, healthCheckNodePorts: { 'default/a': 32123 } });
    expect(healthCheckNodePorts['default/a']).toBe(32123);
  });
});
