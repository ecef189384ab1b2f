import { describe, expect, it } from 'vitest';
import { compileFaultTable, FaultState, portFaultKey, ruleFaultKey, type ActiveFault } from '../../src/faults/compile.js';
import { endpointDistribution } from '../../src/faults/distribution.js';
import type { FaultSpec, FaultTarget, TargetKind } from '../../src/faults/types.js';
import { nodeName, webCluster } from '../dataplane/factories.js';

const { snapshot, endpointPods } = webCluster({
  block: 240,
  pods: [
    { node: 0, port: 8080 },
    { node: 1, port: 8080 },
  ],
});
const service = snapshot.services[0]!;
const portName = service.ports[0]!.name;

function fault(id: string, kind: TargetKind, name: string, spec: FaultSpec, namespace = 'default'): ActiveFault {
  const target: FaultTarget = { kind, namespace: kind === 'node' ? '' : namespace, name };
  return { id, spec, target, startedAt: 0, state: new FaultState() };
}

describe('the fault table', () => {
  it('is undefined without faults, so every hop pays one check', () => {
    expect(compileFaultTable([], snapshot)).toBeUndefined();
  });

  it('keys each fault the way its hop knows itself', () => {
    const pod = endpointPods[1]!;
    const table = compileFaultTable(
      [
        fault('f1', 'service', 'web', { type: 'reset', fraction: 1 }),
        fault('f2', 'frontend', 'web', { type: 'blackhole', fraction: 1, port: 'nope' }),
        fault('f3', 'node', nodeName(0), { type: 'drain' }),
        fault('f4', 'pod', pod.name, { type: 'hang' }),
        fault('f5', 'ingress', 'shop', { type: 'status', code: 503, fraction: 1 }, 'shop'),
        fault('f6', 'node', nodeName(1), { type: 'partition' }),
      ],
      snapshot,
    )!;
    expect(table.ports.get(portFaultKey('service', `default/web:${portName}`))?.map((f) => f.id)).toEqual(['f1']);
    // A port selector no port matches takes nothing.
    expect(table.ports.has(portFaultKey('frontend', `default/web:${portName}`))).toBe(false);
    expect(table.nodes.get(snapshot.nodes[0]!.name)?.probes?.id).toBe('f3');
    expect(table.nodes.get(snapshot.nodes[1]!.name)).toMatchObject({ probes: { id: 'f6' }, partition: { id: 'f6' } });
    expect(table.pods.get(pod.ip)?.hang?.id).toBe('f4');
    expect(table.rules.get(ruleFaultKey('ingress', 'shop/shop'))?.map((f) => f.id)).toEqual(['f5']);
  });

  it('counts firings in the fault state it shares with the registry', () => {
    const f = fault('f1', 'service', 'web', { type: 'reset', fraction: 1 });
    let woken = 0;
    f.state.onFire = () => woken++;
    const table = compileFaultTable([f], snapshot)!;
    table.ports.get(portFaultKey('service', `default/web:${portName}`))![0]!.state.fire();
    expect([f.state.fired, woken]).toEqual([1, 1]);
  });
});

describe('the endpoint distribution', () => {
  it('names pods, subtracts an earlier reading and checks evenness', () => {
    const [a, b] = endpointPods;
    const picks = (na: number, nb: number) => [
      { service: 'default/web', port: portName, endpointPicks: { [`${a!.ip}:${a!.port}`]: na } },
      { service: 'default/web', port: portName, endpointPicks: { [`${b!.ip}:${b!.port}`]: nb } },
      { service: 'default/other', port: portName, endpointPicks: { 'x:1': 99 } },
    ];
    const before = endpointDistribution(snapshot, picks(10, 2), 'default/web', undefined);
    expect(before.total).toBe(12);
    expect(before.evenWithin(0.05)).toBe(false);
    const after = endpointDistribution(snapshot, picks(60, 52), 'default/web', undefined, before);
    expect(after.counts).toEqual({ [`default/${a!.name}`]: 50, [`default/${b!.name}`]: 50 });
    expect(after.shares[`default/${a!.name}`]).toBe(0.5);
    expect(after.evenWithin(0.05)).toBe(true);
  });
});
