import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const policy = (spec: object, name = 'p') => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'shop' }, spec });

describe('NetworkPolicy manifests', () => {
  it('reads selectors, peers and ports with the API server defaults', () => {
    const [p] = load([
      policy({
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'monitor' } } },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            ],
            ports: [{ port: 'http' }, { port: 9000, endPort: 9010, protocol: 'UDP' }],
          },
        ],
        egress: [{}],
      }),
    ]).manifests.networkPolicies!;
    expect(p).toMatchObject({
      kind: 'NetworkPolicy',
      metadata: { name: 'p', namespace: 'shop' },
      spec: {
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            peers: [
              { kind: 'pods', namespaceSelector: { matchLabels: { team: 'ops' } }, podSelector: { matchLabels: { app: 'monitor' } } },
              { kind: 'ipBlock', ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            ],
            ports: [
              { protocol: 'TCP', port: 'http' },
              { protocol: 'UDP', port: 9000, endPort: 9010 },
            ],
          },
        ],
        egress: [{ peers: [], ports: [] }],
      },
    });
  });

  it('defaults policyTypes to Ingress alone without egress rules, and keeps what is written', () => {
    const [a, b] = load([policy({ podSelector: {} }, 'a'), policy({ podSelector: {}, policyTypes: ['Egress'] }, 'b')]).manifests.networkPolicies!;
    expect(a!.spec.policyTypes).toEqual(['Ingress']);
    expect(b!.spec.policyTypes).toEqual(['Egress']);
  });

  it('reports bad fields in the API server words', () => {
    expect(
      fieldErrors([
        policy({
          podSelector: {
            matchExpressions: [
              { key: 'app', operator: 'In' },
              { key: 'x', operator: 'Maybe' },
            ],
          },
          policyTypes: ['Ingress', 'Sideways'],
          ingress: [
            {
              from: [{}, { ipBlock: { cidr: '10.0.0.0/8', except: ['11.0.0.0/16', '10.0.0.0/8'] }, podSelector: {} }, { ipBlock: { cidr: '10.0.0/8' } }],
              ports: [{ port: 70000 }, { port: 'http', endPort: 90 }, { endPort: 90 }, { port: 100, endPort: 90 }, { port: 80, protocol: 'ICMP' }],
            },
          ],
        }),
      ]),
    ).toEqual([
      "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      'spec.podSelector.matchExpressions[1].operator: Invalid value: "Maybe": not a valid selector operator',
      'spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.ingress[0].ports[1].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
      'spec.ingress[0].ports[2].endPort: Invalid value: 90: may not be specified when `port` is not specified',
      'spec.ingress[0].ports[3].endPort: Invalid value: 100: must be greater than or equal to `port`',
      'spec.ingress[0].ports[4].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'spec.ingress[0].from[0]: Required value: must specify a peer',
      'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
      'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[1].ipBlock.except[1]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'spec.ingress[0].from[2].ipBlock.cidr: Invalid value: "10.0.0/8": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ]);
  });

  it('names the apiVersion NetworkPolicy is served at', () => {
    expect(fieldErrors([{ ...policy({ podSelector: {} }), apiVersion: 'extensions/v1beta1' }])).toEqual([
      'apiVersion: Invalid value: "extensions/v1beta1": no matches for kind "NetworkPolicy" in version "extensions/v1beta1"',
    ]);
  });
});
