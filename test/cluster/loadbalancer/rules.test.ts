import { describe, expect, it } from 'vitest';
import { buildServiceRules, type RuleInput } from '../../../src/cluster/loadbalancer/rules.js';
import type { Service } from '../../../src/model/types.js';
import { loadBalancer } from '../factories.js';

const A = 'service.beta.kubernetes.io/';
const FRONTEND = { name: 'afe', ip: '127.20.0.1' };

function rulesOf(service: Service, over: Partial<RuleInput> = {}) {
  return buildServiceRules({
    service,
    serviceKey: 'default/web',
    frontend: FRONTEND,
    nodePorts: service.spec.ports.map((_, i) => 31000 + i),
    distribution: 'round-robin',
    ...over,
  });
}

describe('load-balancing rules', () => {
  it('creates one rule per port with AKS defaults: floating IP on, TCP reset on, 4 minutes idle', () => {
    const { rules, probes } = rulesOf(
      loadBalancer('web', {
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    );
    expect(rules).toEqual([
      {
        name: 'afe-TCP-80',
        frontendName: 'afe',
        frontendIP: '127.20.0.1',
        frontendPort: 80,
        protocol: 'TCP',
        backendPort: 80,
        serviceKey: 'default/web',
        servicePortName: 'http',
        probeName: 'afe-TCP-80',
        distribution: 'round-robin',
        idleTimeoutMinutes: 4,
        enableTcpReset: true,
        enableFloatingIP: true,
        sourceRanges: [],
      },
      expect.objectContaining({ name: 'afe-UDP-53', protocol: 'UDP', backendPort: 53, servicePortName: 'dns' }),
    ]);
    expect(rules[1]).not.toHaveProperty('probeName');
    expect(probes.map((p) => [p.name, p.port])).toEqual([['afe-TCP-80', 31000]]);
  });

  it('targets the NodePort when floating IP is disabled', () => {
    const { rules } = rulesOf(loadBalancer('web', { annotations: { [`${A}azure-disable-load-balancer-floating-ip`]: 'TRUE' } }));
    expect(rules[0]).toMatchObject({ enableFloatingIP: false, backendPort: 31000 });
  });

  it('skips a rule without floating IP when the port has no NodePort', () => {
    const svc = loadBalancer('web', { annotations: { [`${A}azure-disable-load-balancer-floating-ip`]: 'true' } });
    expect(rulesOf(svc, { nodePorts: [undefined] }).rules).toEqual([]);
  });

  it('uses source-ip distribution for sessionAffinity ClientIP and the configured one otherwise', () => {
    expect(rulesOf(loadBalancer('a', { sessionAffinity: 'ClientIP' })).rules[0]!.distribution).toBe('source-ip');
    expect(rulesOf(loadBalancer('b'), { distribution: 'five-tuple' }).rules[0]!.distribution).toBe('five-tuple');
  });

  it('reads the idle timeout and TCP reset annotations', () => {
    const svc = loadBalancer('a', {
      annotations: { [`${A}azure-load-balancer-tcp-idle-timeout`]: '30', [`${A}azure-load-balancer-disable-tcp-reset`]: 'true' },
    });
    expect(rulesOf(svc).rules[0]).toMatchObject({ idleTimeoutMinutes: 30, enableTcpReset: false });
  });

  it('falls back to 4 minutes for an invalid idle timeout', () => {
    const svc = loadBalancer('a', { annotations: { [`${A}azure-load-balancer-tcp-idle-timeout`]: '200' } });
    expect(rulesOf(svc).rules[0]!.idleTimeoutMinutes).toBe(4);
  });

  it('skips ports with port_{port}_no_lb_rule and leaves ports with no_probe_rule without a probe', () => {
    const svc = loadBalancer('a', {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 81 },
        { name: 'c', port: 82 },
      ],
      annotations: { [`${A}port_80_no_lb_rule`]: 'true', [`${A}port_81_no_probe_rule`]: 'true' },
    });
    const { rules, probes } = rulesOf(svc);
    expect(rules.map((r) => [r.name, r.probeName])).toEqual([
      ['afe-TCP-81', undefined],
      ['afe-TCP-82', 'afe-TCP-82'],
    ]);
    expect(probes.map((p) => p.name)).toEqual(['afe-TCP-82']);
  });

  it('shares one /healthz probe on the healthCheckNodePort between all rules under externalTrafficPolicy Local', () => {
    const svc = loadBalancer('a', {
      externalTrafficPolicy: 'Local',
      ports: [
        { name: 'a', port: 80 },
        { name: 'u', port: 53, protocol: 'UDP' },
      ],
    });
    const { rules, probes } = rulesOf(svc, { healthCheckNodePort: 32000 });
    expect(rules.map((r) => r.probeName)).toEqual(['afe-TCP-32000', 'afe-TCP-32000']);
    expect(probes).toEqual([{ name: 'afe-TCP-32000', protocol: 'Http', port: 32000, requestPath: '/healthz', intervalInSeconds: 5, numberOfProbes: 2 }]);
  });

  it('ignores per-port probe protocols under externalTrafficPolicy Local', () => {
    const svc = loadBalancer('a', { externalTrafficPolicy: 'Local', annotations: { [`${A}port_80_health-probe_protocol`]: 'Tcp' } });
    expect(rulesOf(svc, { healthCheckNodePort: 32000 }).probes[0]!.protocol).toBe('Http');
  });

  it('carries loadBalancerSourceRanges, or the annotation when the field is empty', () => {
    expect(rulesOf(loadBalancer('a', { loadBalancerSourceRanges: ['127.0.0.1/32'] })).rules[0]!.sourceRanges).toEqual(['127.0.0.1/32']);
    const annotated = loadBalancer('b', { annotations: { [`${A}load-balancer-source-ranges`]: '10.0.0.0/8, 127.0.0.0/8' } });
    expect(rulesOf(annotated).rules[0]!.sourceRanges).toEqual(['10.0.0.0/8', '127.0.0.0/8']);
  });

  it('makes no rule for SCTP ports', () => {
    expect(rulesOf(loadBalancer('a', { ports: [{ port: 9, protocol: 'SCTP' }] })).rules).toEqual([]);
  });
});
