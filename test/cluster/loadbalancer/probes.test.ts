import { describe, expect, it } from 'vitest';
import { healthCheckProbe, portProbe, probeTiming } from '../../../src/cluster/loadbalancer/probes.js';
import { loadBalancer, servicePort } from '../factories.js';

const A = 'service.beta.kubernetes.io/';
const port80 = servicePort({ port: 80 });

describe('health probe of a port (externalTrafficPolicy Cluster)', () => {
  it('is a TCP probe of the NodePort named like the rule, every 5 s, 2 probes', () => {
    expect(portProbe(loadBalancer('web'), port80, 31000, 'afe-TCP-80')).toEqual({
      name: 'afe-TCP-80',
      protocol: 'Tcp',
      port: 31000,
      intervalInSeconds: 5,
      numberOfProbes: 2,
    });
  });

  it('has none for UDP ports', () => {
    expect(portProbe(loadBalancer('dns'), servicePort({ port: 53, protocol: 'UDP' }), 31053, 'x')).toBeUndefined();
  });

  it('probes HTTP on / when the port appProtocol is http', () => {
    const probe = portProbe(loadBalancer('web'), servicePort({ port: 80, appProtocol: 'http' }), 31000, 'r');
    expect(probe).toMatchObject({ protocol: 'Http', requestPath: '/' });
  });

  it('takes the protocol from the port annotation first, then appProtocol, then the Service annotation, then Tcp', () => {
    const both = { [`${A}port_80_health-probe_protocol`]: 'Https', [`${A}azure-load-balancer-health-probe-protocol`]: 'Http' };
    expect(portProbe(loadBalancer('a', { annotations: both }), servicePort({ port: 80, appProtocol: 'http' }), 1, 'r')!.protocol).toBe('Https');
    const global = { [`${A}azure-load-balancer-health-probe-protocol`]: 'Https' };
    expect(portProbe(loadBalancer('b', { annotations: global }), servicePort({ port: 80, appProtocol: 'http' }), 1, 'r')!.protocol).toBe('Http');
    expect(portProbe(loadBalancer('c', { annotations: global }), port80, 1, 'r')!.protocol).toBe('Https');
  });

  it('falls back to Tcp for an unknown protocol, even when a later source names one', () => {
    const annotations = { [`${A}azure-load-balancer-health-probe-protocol`]: 'http' };
    expect(portProbe(loadBalancer('a', { annotations }), servicePort({ port: 80, appProtocol: 'kubernetes.io/h2c' }), 1, 'r')!.protocol).toBe('Tcp');
  });

  it('takes the request path from the port annotation, then the Service annotation, then /', () => {
    const annotations = {
      [`${A}azure-load-balancer-health-probe-protocol`]: 'http',
      [`${A}port_80_health-probe_request-path`]: '/port',
      [`${A}azure-load-balancer-health-probe-request-path`]: '/svc',
    };
    const svc = loadBalancer('a', { annotations, ports: [{ port: 80 }, { port: 81 }] });
    expect(portProbe(svc, port80, 1, 'r')!.requestPath).toBe('/port');
    expect(portProbe(svc, servicePort({ port: 81 }), 1, 'r')!.requestPath).toBe('/svc');
  });

  it('has no request path for a Tcp probe', () => {
    const annotations = { [`${A}azure-load-balancer-health-probe-request-path`]: '/svc' };
    expect(portProbe(loadBalancer('a', { annotations }), port80, 1, 'r')).not.toHaveProperty('requestPath');
  });
});

describe('health probe of an externalTrafficPolicy Local Service', () => {
  it('is an HTTP probe of /healthz on the healthCheckNodePort, named like a TCP rule on that port', () => {
    const probe = healthCheckProbe(loadBalancer('web', { externalTrafficPolicy: 'Local' }), 'afe', 32000);
    expect(probe).toEqual({ name: 'afe-TCP-32000', protocol: 'Http', port: 32000, requestPath: '/healthz', intervalInSeconds: 5, numberOfProbes: 2 });
  });
});

describe('probe timing', () => {
  const timing = (annotations: Record<string, string>, port = 80) => probeTiming(loadBalancer('a', { annotations }), port);

  it('reads the Service-wide interval and number of probes', () => {
    const t = timing({ [`${A}azure-load-balancer-health-probe-interval`]: '10', [`${A}azure-load-balancer-health-probe-num-of-probe`]: '3' });
    expect([t.intervalInSeconds, t.numberOfProbes, t.problems]).toEqual([10, 3, []]);
  });

  it('prefers the per-port annotations', () => {
    const t = timing({
      [`${A}azure-load-balancer-health-probe-interval`]: '10',
      [`${A}port_80_health-probe_interval`]: '7',
      [`${A}port_80_health-probe_num-of-probe`]: '4',
    });
    expect([t.intervalInSeconds, t.numberOfProbes]).toEqual([7, 4]);
    expect(timing({ [`${A}port_81_health-probe_interval`]: '7' }).intervalInSeconds).toBe(5);
  });

  it('rejects an interval under 5 and a number of probes under 2 with cloud-provider-azure wording', () => {
    expect(timing({ [`${A}azure-load-balancer-health-probe-interval`]: '3' }).problems).toEqual([
      { key: `${A}azure-load-balancer-health-probe-interval`, value: '3', detail: 'the minimum value of interval is 5' },
    ]);
    expect(timing({ [`${A}port_80_health-probe_num-of-probe`]: '1' }).problems).toEqual([
      { key: `${A}port_80_health-probe_num-of-probe`, value: '1', detail: 'the minimum value of num-of-probe is 2' },
    ]);
  });

  it('rejects values that are not whole numbers', () => {
    expect(timing({ [`${A}azure-load-balancer-health-probe-interval`]: '5s' }).problems[0]!.detail).toBe('5s value must be a whole number');
  });

  it('rejects interval × number of probes of 120 or more', () => {
    const t = timing({ [`${A}azure-load-balancer-health-probe-interval`]: '60', [`${A}azure-load-balancer-health-probe-num-of-probe`]: '2' });
    expect(t.problems).toEqual([
      {
        key: `${A}azure-load-balancer-health-probe-interval`,
        value: '60',
        detail: 'total probe should be less than 120, please adjust interval and number of probe accordingly',
      },
    ]);
    expect([t.intervalInSeconds, t.numberOfProbes]).toEqual([5, 2]);
  });
});
