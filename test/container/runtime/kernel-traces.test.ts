/**
 * Traces of kernel-forwarded flows from conntrack's event lines, without a kernel: what a
 * node's and the lb's records say, and which lines make none.
 */
import { beforeEach, describe, expect, it } from 'vitest';

import type { Snapshot } from '../../../src/cluster/snapshot.js';
import { Traces } from '../../../src/dataplane/observe/traces.js';
import { Counters } from '../../../src/dataplane/stats.js';
import { KernelTraces, lbFlowLookup, nodeFlowLookup, parseConntrackEvent, type KernelFlowLookup } from '../../../src/runtime/container/kernel-traces.js';

const snapshot = {
  nodes: [
    { name: 'node-0', address: '10.224.0.4' },
    { name: 'node-1', address: '10.224.0.5' },
  ],
  pods: [{ namespace: 'default', name: 'web-1', ip: '10.244.1.7', nodeName: 'node-1' }],
  services: [
    {
      namespace: 'default',
      name: 'web',
      type: 'LoadBalancer',
      clusterIP: '10.0.0.20',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
    },
  ],
  loadBalancers: [
    { name: 'kubernetes', rules: [{ name: 'a1-TCP-80', frontendIP: '172.30.0.1', frontendPort: 80, serviceKey: 'default/web', servicePortName: 'http' }] },
  ],
} as unknown as Snapshot;

const line = (type: string, state: string, orig: string, reply: string, id = '7', extra = '') =>
  `${type === 'NEW' ? '    ' : type === 'UPDATE' ? ' ' : ''}[${type}] tcp      6 120 ${state} ${orig} ${extra}${reply} id=${id}`;
const LB_FLOW = 'src=10.224.0.2 dst=10.224.0.4 sport=40000 dport=30080';
const TO_POD = 'src=10.244.1.7 dst=10.224.0.4 sport=8080 dport=40000';

describe('kernel flow traces', () => {
  let counters = new Counters();
  beforeEach(() => {
    counters = new Counters();
  });

  /** A KernelTraces writing into fresh traces and this test's counters, following a table's lookup. */
  const following = (lookup: KernelFlowLookup): { traces: Traces; kernel: KernelTraces } => {
    const traces = new Traces();
    const kernel = new KernelTraces(
      traces,
      () => counters,
      () => undefined,
    );
    kernel.use(lookup);
    return { traces, kernel };
  };

  it('parses conntrack -E -o id lines: event, state, both tuples, id; refuses other lines', () => {
    expect(parseConntrackEvent(line('NEW', 'SYN_SENT', LB_FLOW, TO_POD, '42', '[UNREPLIED] '))).toEqual({
      type: 'NEW',
      id: '42',
      state: 'SYN_SENT',
      unreplied: true,
      orig: { src: '10.224.0.2', dst: '10.224.0.4', sport: 40000, dport: 30080 },
      reply: { src: '10.244.1.7', dst: '10.224.0.4', sport: 8080, dport: 40000 },
    });
    expect(parseConntrackEvent('conntrack v1.4.7 (conntrack-tools): 4 flow events have been shown.')).toBeUndefined();
    expect(parseConntrackEvent('[NEW] udp      17 30 src=1.1.1.1 dst=2.2.2.2 sport=1 dport=53 src=2.2.2.2 dst=1.1.1.1 sport=53 dport=1 id=3')).toBeUndefined();
  });

  it('a node: the NodePort, kube-proxy’s Service port, the endpoint and the source the pod saw, ended by FIN (TIME_WAIT)', () => {
    const { traces, kernel } = following(nodeFlowLookup(snapshot, 'node-0'));
    kernel.event(line('NEW', 'SYN_SENT', LB_FLOW, TO_POD, '7', '[UNREPLIED] '));
    const [open] = traces.query({ service: 'default/web' });
    expect(open).toMatchObject({ kind: 'tcp', path: 'kernel', client: '10.224.0.2:40000', service: 'default/web', open: true });
    // Open in kube-proxy's and the endpoint's counters (as the user-space path counts its flows) until it ends, then one duration each.
    const port = counters.servicePort('node-0', 'default/web', 'http');
    const endpoint = counters.endpoint('default/web', 'http', '10.244.1.7:8080', 'default/web-1', 'node-1');
    expect([port.active, endpoint.active]).toEqual([1, 1]);
    kernel.event(line('UPDATE', 'TIME_WAIT', LB_FLOW, TO_POD));
    expect([port.active, endpoint.active, port.duration.count, endpoint.duration.count]).toEqual([0, 0, 1, 1]);
    const [done] = traces.query({ service: 'default/web' });
    expect(done).toMatchObject({ end: 'closed' });
    expect(done!['hops']).toEqual([
      { hop: 'listener', role: 'nodeport', address: '10.224.0.4:30080' },
      { hop: 'node', node: 'node-0' },
      { hop: 'kube-proxy', node: 'node-0', service: 'default/web', port: 'http', path: 'kernel' },
      { hop: 'endpoint', endpoint: '10.244.1.7:8080', pod: 'default/web-1', node: 'node-1', seenSource: '10.224.0.4', delivery: 'kernel' },
    ]);
  });

  it('ends by RST (CLOSE), at a timeout while open, or unanswered; ignores untranslated and unknown flows', () => {
    const { traces, kernel } = following(nodeFlowLookup(snapshot, 'node-0'));
    const clusterIP = 'src=10.244.0.9 dst=10.0.0.20 sport=5000 dport=80';
    const fromPod = 'src=10.244.1.7 dst=10.244.0.9 sport=8080 dport=5000';
    kernel.event(line('NEW', 'SYN_SENT', clusterIP, fromPod, '1'));
    kernel.event(line('UPDATE', 'CLOSE', clusterIP, fromPod, '1'));
    kernel.event(line('NEW', 'SYN_SENT', clusterIP, fromPod, '2'));
    kernel.event(line('DESTROY', 'ESTABLISHED', clusterIP, fromPod, '2'));
    kernel.event(line('NEW', 'SYN_SENT', clusterIP, fromPod, '3'));
    kernel.event(line('DESTROY', 'SYN_SENT', clusterIP, fromPod, '3', '[UNREPLIED] '));
    // Not translated (the reply comes from where the client dialled), and a port the table does not have.
    kernel.event(line('NEW', 'SYN_SENT', clusterIP, 'src=10.0.0.20 dst=10.244.0.9 sport=80 dport=5000', '4'));
    kernel.event(line('NEW', 'SYN_SENT', 'src=10.244.0.9 dst=10.0.0.99 sport=5001 dport=80', fromPod, '5'));
    const views = traces.query();
    expect(views.map((v) => v['end'])).toEqual(['reset', 'idle_timeout', 'connect_failed']);
    expect((views[0]!['hops'] as { seenSource?: string }[]).at(-1)!.seenSource).toBe('10.244.0.9');
  });

  it('the lb: the frontend, the rule and the node the flow went to (not the Service, as the user-space lb’s records)', () => {
    const { traces, kernel } = following(lbFlowLookup(snapshot));
    kernel.event(line('NEW', 'SYN_SENT', 'src=172.30.255.254 dst=172.30.0.1 sport=6000 dport=80', 'src=10.224.0.5 dst=10.224.0.2 sport=30080 dport=6000'));
    expect(traces.query({ service: 'default/web' })).toEqual([]);
    expect(counters.rule('kubernetes', 'a1-TCP-80', 'default/web:http').active).toBe(1);
    expect(traces.query()[0]!['hops']).toEqual([
      { hop: 'listener', role: 'lb', address: '172.30.0.1:80' },
      { hop: 'lb-rule', loadBalancer: 'kubernetes', rule: 'a1-TCP-80', path: 'kernel' },
      { hop: 'node', node: 'node-1', address: '10.224.0.5:30080', seenSource: '10.224.0.2' },
    ]);
  });
});
