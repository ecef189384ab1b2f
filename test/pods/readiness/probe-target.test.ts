import { describe, expect, it } from 'vitest';
import { probeTarget, resolveProbePort } from '../../../src/pods/readiness/probe-target.js';
import { container } from '../pod-fixture.js';

const web = container('web', [{ name: 'http', containerPort: 8080 }]);

describe('resolveProbePort', () => {
  it('resolves a port name among the probe’s own container ports', () => {
    expect(resolveProbePort('http', web)).toBe(8080);
  });

  it('accepts a number, or a number written as a string, as kubelet does', () => {
    expect(resolveProbePort(9090, web)).toBe(9090);
    expect(resolveProbePort('9090', web)).toBe(9090);
  });

  it('explains a name the container does not declare and an out-of-range number', () => {
    expect(resolveProbePort('metrics', web)).toBe('port metrics not found');
    expect(resolveProbePort(70000, web)).toBe('invalid port number: 70000');
  });
});

describe('probeTarget', () => {
  it('is undefined for a container without a readinessProbe', () => {
    expect(probeTarget(web)).toBeUndefined();
  });

  it('turns an httpGet probe into a resolved request', () => {
    const c = container('web', [{ name: 'http', containerPort: 8080 }], {
      httpGet: { path: 'ready', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: '1' }] },
    });
    expect(probeTarget(c)?.action).toEqual({
      kind: 'httpGet',
      scheme: 'HTTP',
      port: 8080,
      path: '/ready',
      headers: [{ name: 'X-Probe', value: '1' }],
    });
  });

  it('marks exec and grpc probes as assumed to pass and unknown port names as unresolved', () => {
    expect(probeTarget(container('a', [], { exec: { command: ['true'] } }))?.action).toEqual({ kind: 'assumed', handler: 'exec' });
    expect(probeTarget(container('a', [], { grpc: { port: 50051 } }))?.action).toEqual({ kind: 'assumed', handler: 'grpc' });
    expect(probeTarget(container('a', [], { tcpSocket: { port: 'db' } }))?.action).toEqual({
      kind: 'unresolved',
      message: 'port db not found',
    });
  });
});
