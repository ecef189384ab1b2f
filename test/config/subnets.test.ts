import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { subnetCIDR } from '../../src/config/subnets.js';
import { AksEmuError } from '../../src/errors/index.js';

function problems(input: object): string[] {
  try {
    buildConfig(input as never, 'aks-emu.yaml');
  } catch (err) {
    if (err instanceof AksEmuError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('aks-emu.yaml subnets:', () => {
  it('maps subnet names to CIDRs, with aks-subnet for the node subnet', () => {
    const config = buildConfig({ subnets: { 'apps-subnet': '127.225.1.0/24' } });
    expect(config.subnets).toEqual({ 'apps-subnet': '127.225.1.0/24' });
    expect(subnetCIDR(config.subnets, config.addresses.nodeSubnet, 'apps-subnet')).toBe('127.225.1.0/24');
    expect(subnetCIDR(config.subnets, config.addresses.nodeSubnet, 'aks-subnet')).toBe('127.224.0.0/16');
    expect(subnetCIDR(config.subnets, config.addresses.nodeSubnet, 'other')).toBeUndefined();
    expect(subnetCIDR(config.subnets, config.addresses.nodeSubnet, 'constructor')).toBeUndefined();
  });

  it('names each bad entry', () => {
    expect(problems({ subnets: { 'apps-subnet': 'nope', '-bad': '127.225.1.0/24', 'aks-subnet': '127.1.0.0/16' } })).toEqual([
      'aks-emu.yaml: subnets.apps-subnet: Invalid value: "nope": must be an IPv4 CIDR such as 127.225.1.0/24',
      'aks-emu.yaml: subnets.-bad: Invalid value: an Azure subnet name is 1-80 letters, digits, "_", "." or "-", starting with a letter or digit',
      'aks-emu.yaml: subnets.aks-subnet: Invalid value: "127.1.0.0/16": aks-subnet is the node subnet (addresses.nodeSubnet: 127.224.0.0/16)',
    ]);
    expect(problems({ subnets: ['apps-subnet'] })).toEqual([
      'aks-emu.yaml: subnets: Invalid value: a mapping of subnet names to CIDRs, such as {apps-subnet: 127.225.1.0/24}',
    ]);
  });
});
