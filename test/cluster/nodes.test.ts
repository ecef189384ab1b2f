import { describe, expect, it } from 'vitest';
import { nodeInfos, nodeSpecs } from '../../src/cluster/nodes.js';
import { AKS_ADDRESSES, aksNodeNames, defaultConfig } from '../../src/config/defaults.js';

describe('nodes', () => {
  it('addresses the first node at .4 of the node subnet and gives each node a /24 of the pod CIDR', () => {
    const nodes = nodeSpecs(defaultConfig({ addresses: AKS_ADDRESSES }));
    expect(nodes.map((n) => [n.index, n.address, n.podCIDR])).toEqual([
      [0, '10.224.0.4', '10.244.0.0/24'],
      [1, '10.224.0.5', '10.244.1.0/24'],
      [2, '10.224.0.6', '10.244.2.0/24'],
    ]);
  });

  it('uses the embedded loopback ranges by default', () => {
    expect(nodeSpecs(defaultConfig())[1]).toMatchObject({ address: '127.224.0.5', podCIDR: '127.244.1.0/24' });
  });

  it('labels nodes as AKS does, with the agent pool taken from the VMSS node name', () => {
    const [node] = nodeSpecs(defaultConfig({ nodes: aksNodeNames(1, 'userpool') }));
    expect(node!.labels).toMatchObject({
      'kubernetes.io/hostname': 'aks-userpool-12345678-vmss000000',
      'kubernetes.io/os': 'linux',
      agentpool: 'userpool',
      'kubernetes.azure.com/agentpool': 'userpool',
      'node.kubernetes.io/instance-type': 'Standard_DS2_v2',
      'topology.kubernetes.io/zone': '0',
    });
  });

  it('puts nodes with custom names in nodepool1', () => {
    const [node] = nodeSpecs(defaultConfig({ nodes: ['alpha'] }));
    expect(node!.labels.agentpool).toBe('nodepool1');
  });

  it('marks stopped nodes not running and nodes past the grace period not ready', () => {
    const config = defaultConfig({ nodes: ['a', 'b', 'c'] });
    const infos = nodeInfos(config, { stoppedNodes: ['b', 'c'], notReadyNodes: ['c'] });
    expect(infos.map((n) => [n.name, n.running, n.ready])).toEqual([
      ['a', true, true],
      ['b', false, true],
      ['c', false, false],
    ]);
  });
});
