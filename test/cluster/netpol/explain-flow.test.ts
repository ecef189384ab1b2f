import { describe, expect, it } from 'vitest';
import { directFlowDecision, explainFlow, formatFlowExplanation } from '../../../src/cluster/netpol/explain-flow.js';
import { compileNetworkPolicies } from '../../../src/cluster/netpol/table.js';
import type { NodeInfo, PodInfo, Snapshot } from '../../../src/cluster/snapshot.js';
import { AksEmuError } from '../../../src/errors/index.js';
import { formatLabelSelector, printNetworkPolicies } from '../../../src/cli/netpol-printers.js';
import { load } from '../../manifests/helpers.js';

const nodes = [{ name: 'n0', address: '127.224.0.4' }] as NodeInfo[];

const pod = (name: string, ip: string, app: string, port: { name: string; containerPort: number }): PodInfo =>
  ({
    namespace: 'shop',
    name,
    ip,
    labels: { app },
    nodeName: 'n0',
    phase: 'Running',
    containers: [{ name: 'c', image: 'x', ports: [{ protocol: 'TCP', ...port }] }],
  }) as unknown as PodInfo;

const pods = [
  pod('front-1', '127.244.0.2', 'front', { name: 'http', containerPort: 8080 }),
  pod('api-1', '127.244.0.3', 'api', { name: 'web', containerPort: 3000 }),
];

const POLICIES = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'shop' }, spec: { podSelector: {} } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-from-front', namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'front' } } }], ports: [{ port: 'web' }] }] },
  },
];

function snapshot(withPolicies = true): Snapshot {
  const table = compileNetworkPolicies({ policies: withPolicies ? load(POLICIES).manifests.networkPolicies! : [], namespaces: [], pods, nodes });
  return {
    nodes,
    pods,
    services: [{ namespace: 'shop', name: 'api', clusterIP: '127.10.0.20', ports: [{ name: '', port: 80, protocol: 'TCP', targetPort: 'web' }] }],
    endpoints: [
      {
        serviceKey: 'shop/api',
        ports: [{ name: '', protocol: 'TCP', endpoints: [], usable: [{ ip: '127.244.0.3', port: 3000, podName: 'api-1', podNamespace: 'shop', ready: true }] }],
      },
    ],
    ...(table === undefined ? {} : { networkPolicy: table }),
  } as unknown as Snapshot;
}

describe('explain flow', () => {
  it('decides a Service per endpoint, after DNAT, and names the policy', () => {
    const e = explainFlow(snapshot(), { from: 'pod/front-1', to: 'svc/api', namespace: 'shop' });
    expect(e.flows).toHaveLength(1);
    expect(e.flows[0]).toMatchObject({
      target: 'pod shop/api-1',
      address: '127.244.0.3',
      port: 3000,
      decision: { verdict: 'allow', policy: 'shop/api-from-front' },
    });
    const text = formatFlowExplanation(e);
    expect(text).toContain('ALLOW to pod shop/api-1 127.244.0.3:3000');
    expect(text).toContain('allowed by shop/api-from-front (ingress rule 0)');
  });

  it('takes a named container port of a pod target and masquerades with --via', () => {
    const direct = explainFlow(snapshot(), { from: 'pod/api-1', to: 'pod/front-1', port: 'http', namespace: 'shop' });
    expect(direct.flows[0]).toMatchObject({ port: 8080, decision: { verdict: 'drop', direction: 'Ingress', policies: ['shop/deny'] } });
    const viaNode = explainFlow(snapshot(), { from: '127.0.0.1', via: 'node/n0', to: '127.244.0.2', port: '8080' });
    expect(viaNode.source).toEqual({ name: '127.0.0.1', address: '127.0.0.1', seenAs: '127.224.0.4' });
    // SNAT to the pod's own node does not make it the node's own traffic.
    expect(viaNode.flows[0]!.decision.verdict).toBe('drop');
    expect(explainFlow(snapshot(), { from: 'node/n0', to: '127.244.0.2', port: '8080' }).flows[0]!.decision.verdict).toBe('allow');
  });

  it('refuses what it cannot name, as a usage or not-found error', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof AksEmuError ? `${err.code}: ${err.message}` : String(err);
      }
      return 'no error';
    };
    expect(codeOf(() => explainFlow(snapshot(), { from: 'deploy/x', to: 'svc/api' }))).toBe(
      'AKS_EMU_USAGE: invalid value "deploy/x" for flag --from: expected pod/NAME, node/NAME or an IPv4 address',
    );
    expect(codeOf(() => explainFlow(snapshot(), { from: 'pod/nope', to: 'svc/api', namespace: 'shop' }))).toBe(
      'AKS_EMU_NOT_FOUND: pods "nope" not found in namespace "shop"',
    );
    expect(codeOf(() => explainFlow(snapshot(), { from: 'pod/front-1', to: 'pod/api-1', namespace: 'shop', port: 'nope' }))).toContain(
      'AKS_EMU_USAGE: invalid value "nope" for flag --port',
    );
  });

  it('lets a direct dial decide only where the data plane does not (pod IPs, not VIPs)', () => {
    expect(directFlowDecision(snapshot(), '127.244.0.3', '127.244.0.2', 8080)?.verdict).toBe('drop');
    expect(directFlowDecision(snapshot(), '127.244.0.3', '127.10.0.20', 80)).toBeUndefined();
    expect(directFlowDecision(snapshot(false), '127.244.0.3', '127.244.0.2', 8080)).toBeUndefined();
  });
});

describe('get networkpolicy', () => {
  it("prints kubectl's POD-SELECTOR", () => {
    expect(formatLabelSelector({})).toBe('<none>');
    expect(
      formatLabelSelector({
        matchLabels: { tier: 'web' },
        matchExpressions: [
          { key: 'app', operator: 'In', values: ['b', 'a'] },
          { key: 'zone', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app in (a,b),tier=web,!zone');
    const table = printNetworkPolicies({ items: [{ metadata: { name: 'deny', namespace: 'shop' }, spec: { podSelector: {} } }] }, true);
    expect(table.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+POD-SELECTOR\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^shop\s+deny\s+<none>\s+/);
  });
});
