import { describe, expect, it } from 'vitest';
import { validateLoadBalancerAnnotations } from '../../../src/cluster/loadbalancer/validate.js';
import { formatFieldError } from '../../../src/errors/index.js';
import { loadBalancer } from '../factories.js';

const A = 'service.beta.kubernetes.io/';
const messages = (...args: Parameters<typeof validateLoadBalancerAnnotations>) => validateLoadBalancerAnnotations(...args).map(formatFieldError);

describe('LB annotation validation', () => {
  it('accepts a Service without annotations', () => {
    expect(messages(loadBalancer('a'), undefined)).toEqual([]);
  });

  it('reports an idle timeout outside 4..100 minutes', () => {
    expect(messages(loadBalancer('a', { annotations: { [`${A}azure-load-balancer-tcp-idle-timeout`]: '101' } }), undefined)).toEqual([
      `metadata.annotations[${A}azure-load-balancer-tcp-idle-timeout]: Invalid value: "101": idle timeout value must be a whole number representing minutes between 4 and 100, actual value: 101`,
    ]);
    expect(messages(loadBalancer('b', { annotations: { [`${A}azure-load-balancer-tcp-idle-timeout`]: '100' } }), undefined)).toEqual([]);
  });

  it('reports a bad Service-wide probe setting once, however many ports read it', () => {
    const svc = loadBalancer('a', {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 81 },
      ],
      annotations: { [`${A}azure-load-balancer-health-probe-interval`]: '2' },
    });
    const errors = validateLoadBalancerAnnotations(svc, undefined);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'Service', name: 'a', field: `metadata.annotations[${A}azure-load-balancer-health-probe-interval]` });
    expect(errors[0]!.detail).toBe('the minimum value of interval is 5');
  });

  it('checks probe timing of the health check port under externalTrafficPolicy Local', () => {
    const svc = loadBalancer('a', { externalTrafficPolicy: 'Local', annotations: { [`${A}azure-load-balancer-health-probe-num-of-probe`]: '1' } });
    expect(validateLoadBalancerAnnotations(svc, 32000).map((e) => e.detail)).toEqual(['the minimum value of num-of-probe is 2']);
  });

  it('ignores probe settings of ports that get no probe', () => {
    const svc = loadBalancer('a', { annotations: { [`${A}port_80_no_probe_rule`]: 'true', [`${A}port_80_health-probe_interval`]: '1' } });
    expect(messages(svc, undefined)).toEqual([]);
  });

  it('refuses boolean annotations that are neither true nor false, in any case', () => {
    const svc = loadBalancer('a', {
      ports: [{ name: 'a', port: 80 }],
      annotations: {
        [`${A}azure-load-balancer-internal`]: 'maybe',
        [`${A}azure-load-balancer-disable-tcp-reset`]: 'TRUE',
        [`${A}azure-disable-load-balancer-floating-ip`]: 'yes',
        [`${A}port_80_no_lb_rule`]: 'False',
        [`${A}port_80_no_probe_rule`]: '1',
      },
    });
    expect(messages(svc, undefined)).toEqual([
      `metadata.annotations[${A}azure-load-balancer-internal]: Unsupported value: "maybe": supported values: "true", "false"`,
      `metadata.annotations[${A}azure-disable-load-balancer-floating-ip]: Unsupported value: "yes": supported values: "true", "false"`,
      `metadata.annotations[${A}port_80_no_probe_rule]: Unsupported value: "1": supported values: "true", "false"`,
    ]);
  });

  it('refuses a probe protocol cloud-provider-azure would quietly turn into Tcp', () => {
    const svc = loadBalancer('a', {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 443 },
      ],
      annotations: {
        [`${A}azure-load-balancer-health-probe-protocol`]: 'gopher',
        [`${A}port_443_health-probe_protocol`]: ' HTTPS ',
        [`${A}port_80_health-probe_protocol`]: 'udp',
      },
    });
    expect(messages(svc, undefined)).toEqual([
      `metadata.annotations[${A}azure-load-balancer-health-probe-protocol]: Unsupported value: "gopher": supported values: "tcp", "http", "https"`,
      `metadata.annotations[${A}port_80_health-probe_protocol]: Unsupported value: "udp": supported values: "tcp", "http", "https"`,
    ]);
  });

  it('refuses a probe request path that is not an absolute path', () => {
    const svc = loadBalancer('a', {
      annotations: { [`${A}azure-load-balancer-health-probe-request-path`]: 'healthz', [`${A}port_80_health-probe_request-path`]: '/ready now' },
    });
    expect(messages(svc, undefined)).toEqual([
      `metadata.annotations[${A}azure-load-balancer-health-probe-request-path]: Invalid value: "healthz": must be an absolute path that starts with "/" and has no spaces`,
      `metadata.annotations[${A}port_80_health-probe_request-path]: Invalid value: "/ready now": must be an absolute path that starts with "/" and has no spaces`,
    ]);
    expect(messages(loadBalancer('b', { annotations: { [`${A}azure-load-balancer-health-probe-request-path`]: '/healthz?full=1' } }), undefined)).toEqual([]);
  });
});
