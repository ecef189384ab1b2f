import { describe, expect, it } from 'vitest';
import { evaluateFlow, type Flow } from '../../../src/cluster/netpol/evaluate.js';
import { compileNetworkPolicies } from '../../../src/cluster/netpol/table.js';
import type { Namespace } from '../../../src/model/types.js';
import { load } from '../../manifests/helpers.js';
import { policyPod, twoNodes } from './policy-pods.js';

const nodes = twoNodes('127.224.0');
const pod = policyPod;

const pods = [
  pod('shop', 'front', '127.244.0.2', { app: 'front' }),
  pod('shop', 'api', '127.244.0.3', { app: 'api' }, [{ name: 'http', containerPort: 8080 }], 'n1'),
  pod('shop', 'db', '127.244.0.4', { app: 'db' }, [{ name: 'mongo', containerPort: 27017 }]),
  pod('ops', 'monitor', '127.244.1.2', { app: 'monitor' }),
  pod('ops', 'api', '127.244.1.3', { app: 'api' }),
  pod('ingress-nginx', 'controller', '127.244.1.4', { 'app.kubernetes.io/name': 'ingress-nginx' }),
];

function namespaceObj(name: string, labels: Record<string, string>): Namespace {
  return { kind: 'Namespace', source: { file: 't', doc: 1 }, metadata: { name, namespace: '', labels, annotations: {}, uid: name } };
}

const namespaces = [namespaceObj('ops', { team: 'ops' }), namespaceObj('shop', { team: 'shop' })];

function policy(name: string, spec: object, namespace = 'shop'): object {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

function decide(policies: object[], flow: Flow) {
  const manifests = load(policies).manifests;
  const table = compileNetworkPolicies({ policies: manifests.networkPolicies ?? [], namespaces, pods, nodes });
  return evaluateFlow(table, flow);
}

const FRONT = '127.244.0.2';
const API = '127.244.0.3';
const DB = '127.244.0.4';
const MONITOR = '127.244.1.2';
const OPS_API = '127.244.1.3';
const HOST = '127.0.0.1';

const denyAll = policy('deny-all', { podSelector: {}, policyTypes: ['Ingress'] });

describe('NetworkPolicy evaluation', () => {
  it('allows everything without policies, and for pods no policy selects', () => {
    expect(decide([], { source: FRONT, destination: API, port: 8080 }).verdict).toBe('allow');
    const onlyDb = policy('db', { podSelector: { matchLabels: { app: 'db' } } });
    expect(decide([onlyDb], { source: FRONT, destination: API, port: 8080 })).toMatchObject({
      verdict: 'allow',
      ingress: { kind: 'not-isolated', pod: 'shop/api' },
    });
    expect(decide([onlyDb], { source: FRONT, destination: DB, port: 27017 })).toMatchObject({ verdict: 'drop', direction: 'Ingress', policies: ['shop/db'] });
  });

  it('a default deny drops every source, the host included, and names the policy', () => {
    const d = decide([denyAll], { source: HOST, destination: FRONT, port: 80 });
    expect(d).toMatchObject({ verdict: 'drop', direction: 'Ingress', policies: ['shop/deny-all'] });
    expect(d.reason).toContain('ingress of pod shop/front is isolated by shop/deny-all');
    // Another namespace is not selected by a policy of shop.
    expect(decide([denyAll], { source: FRONT, destination: MONITOR, port: 80 }).verdict).toBe('allow');
  });

  it('allows the union of the rules of every policy that selects the pod', () => {
    const fromFront = policy('from-front', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'front' } } }] }],
    });
    const fromMonitor = policy('from-monitor', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'monitor' } } }] }],
    });
    const set = [denyAll, fromFront, fromMonitor];
    expect(decide(set, { source: FRONT, destination: API, port: 8080 })).toMatchObject({ verdict: 'allow', policy: 'shop/from-front' });
    expect(decide(set, { source: MONITOR, destination: API, port: 8080 })).toMatchObject({ verdict: 'allow', policy: 'shop/from-monitor' });
    expect(decide(set, { source: DB, destination: API, port: 8080 })).toMatchObject({
      verdict: 'drop',
      policies: ['shop/deny-all', 'shop/from-front', 'shop/from-monitor'],
    });
  });

  it('namespaceSelector and podSelector in one peer select pods matching both, unlike two peers', () => {
    const both = policy('both', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'monitor' } } }] }],
    });
    expect(decide([both], { source: MONITOR, destination: API, port: 8080 }).verdict).toBe('allow');
    expect(decide([both], { source: OPS_API, destination: API, port: 8080 }).verdict).toBe('drop');
    const either = policy('either', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }, { podSelector: { matchLabels: { app: 'monitor' } } }] }],
    });
    expect(decide([either], { source: OPS_API, destination: API, port: 8080 }).verdict).toBe('allow');
    // podSelector alone means the policy's own namespace: ops/monitor is not it.
    const sameNs = policy('same-ns', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ podSelector: {} }] }] });
    expect(decide([sameNs], { source: MONITOR, destination: API, port: 8080 }).verdict).toBe('drop');
    expect(decide([sameNs], { source: FRONT, destination: API, port: 8080 }).verdict).toBe('allow');
  });

  it('namespaceSelector matches the kubernetes.io/metadata.name label every namespace carries', () => {
    const fromIngress = policy('from-ingress', {
      podSelector: { matchLabels: { app: 'front' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] }],
    });
    expect(decide([fromIngress], { source: '127.244.1.4', destination: FRONT, port: 80 }).verdict).toBe('allow');
    expect(decide([fromIngress], { source: MONITOR, destination: FRONT, port: 80 }).verdict).toBe('drop');
  });

  it('ipBlock allows the cidr but not its except ranges', () => {
    const block = policy('block', {
      podSelector: { matchLabels: { app: 'front' } },
      ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.0/8', except: ['127.244.0.0/16'] } }] }],
    });
    expect(decide([block], { source: HOST, destination: FRONT, port: 80 }).verdict).toBe('allow');
    expect(decide([block], { source: API, destination: FRONT, port: 80 }).verdict).toBe('drop');
    expect(decide([block], { source: MONITOR, destination: FRONT, port: 80 }).verdict).toBe('drop');
  });

  it('ports: numbers, ranges with endPort, protocols and names resolved on the destination pod', () => {
    const ports = policy('ports', {
      podSelector: {},
      ingress: [{ ports: [{ port: 'http' }, { port: 9000, endPort: 9010 }, { protocol: 'UDP', port: 53 }] }],
    });
    expect(decide([ports], { source: FRONT, destination: API, port: 8080 }).verdict).toBe('allow');
    // db has no port named http: the name resolves to nothing there.
    expect(decide([ports], { source: FRONT, destination: DB, port: 8080 }).verdict).toBe('drop');
    expect(decide([ports], { source: FRONT, destination: DB, port: 9000 }).verdict).toBe('allow');
    expect(decide([ports], { source: FRONT, destination: DB, port: 9010 }).verdict).toBe('allow');
    expect(decide([ports], { source: FRONT, destination: DB, port: 9011 }).verdict).toBe('drop');
    expect(decide([ports], { source: FRONT, destination: DB, port: 53 }).verdict).toBe('drop');
    expect(decide([ports], { source: FRONT, destination: DB, port: 53, protocol: 'UDP' }).verdict).toBe('allow');
  });

  it('egress: the source pod must be allowed to send, whatever the destination allows', () => {
    const egress = policy('front-egress', {
      podSelector: { matchLabels: { app: 'front' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }], ports: [{ port: 8080 }] }],
    });
    expect(decide([egress], { source: FRONT, destination: API, port: 8080 })).toMatchObject({ verdict: 'allow', policy: 'shop/front-egress' });
    expect(decide([egress], { source: FRONT, destination: DB, port: 27017 })).toMatchObject({ verdict: 'drop', direction: 'Egress' });
    expect(decide([egress], { source: FRONT, destination: '127.30.0.1', port: 443 })).toMatchObject({ verdict: 'drop', direction: 'Egress' });
    // Egress only: ingress of front is not isolated.
    expect(decide([egress], { source: API, destination: FRONT, port: 80 }).verdict).toBe('allow');
    // A masqueraded flow is judged on the pod it came from.
    expect(decide([egress], { source: '127.224.0.4', origin: FRONT, destination: DB, port: 27017 }).verdict).toBe('drop');
  });

  it('both sides must allow: an allowed egress does not open an isolated ingress', () => {
    const egress = policy('front-egress', { podSelector: { matchLabels: { app: 'front' } }, policyTypes: ['Egress'], egress: [{}] });
    expect(decide([egress, denyAll], { source: FRONT, destination: API, port: 8080 })).toMatchObject({ verdict: 'drop', direction: 'Ingress' });
  });

  it('policyTypes default to Ingress, plus Egress when there are egress rules', () => {
    const ingressOnly = policy('no-types', { podSelector: { matchLabels: { app: 'front' } } });
    expect(decide([ingressOnly], { source: FRONT, destination: '127.30.0.1', port: 443 }).verdict).toBe('allow');
    const withEgress = policy('egress-rules', { podSelector: { matchLabels: { app: 'front' } }, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] });
    expect(decide([withEgress], { source: FRONT, destination: '127.30.0.1', port: 443 })).toMatchObject({ verdict: 'drop', direction: 'Egress' });
    expect(decide([withEgress], { source: HOST, destination: FRONT, port: 80 })).toMatchObject({ verdict: 'drop', direction: 'Ingress' });
  });

  it("allows a node to reach the pods on itself (kubelet probes), not another node's", () => {
    expect(decide([denyAll], { source: '127.224.0.4', destination: FRONT, port: 80 })).toMatchObject({ verdict: 'allow', ingress: { kind: 'node-local' } });
    expect(decide([denyAll], { source: '127.224.0.5', destination: FRONT, port: 80 }).verdict).toBe('drop');
    // SNAT to the pod's own node does not make a client's flow the node's.
    expect(decide([denyAll], { source: '127.224.0.4', origin: HOST, destination: FRONT, port: 80 }).verdict).toBe('drop');
  });

  it('matchExpressions select as label selectors do', () => {
    const expr = policy('expr', {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'db'] }] },
      ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['front'] }] } }] }],
    });
    expect(decide([expr], { source: FRONT, destination: API, port: 8080 }).verdict).toBe('drop');
    expect(decide([expr], { source: DB, destination: API, port: 8080 }).verdict).toBe('allow');
    expect(decide([expr], { source: FRONT, destination: FRONT, port: 80 }).verdict).toBe('allow');
  });
});
