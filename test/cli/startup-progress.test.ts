import { describe, expect, it } from 'vitest';
import { printLoadBalancers } from '../../src/cli/printers.js';
import { probeSummary, startupLine } from '../../src/cli/startup-progress.js';
import type { Snapshot } from '../../src/cluster/snapshot.js';

const snapshot = (ready: boolean[]) => ({ pods: ready.map((r) => ({ ready: r })) }) as unknown as Snapshot;
const probe = (state: 'up' | 'down', settled = true) => ({ state, settled });

describe('start-up progress of aks-emu up', () => {
  it('counts Ready pods and probes that have answered', () => {
    expect(startupLine(snapshot([true, false, false]), [probe('up', false), probe('up'), probe('down')])).toBe(
      'starting: 1/3 pods Ready, 2/3 LB probe results in',
    );
    expect(startupLine(snapshot([]), [])).toBe('starting: 0/0 pods Ready');
  });

  it('sums up the settled probe states once it serves, leaving out what has no probes', () => {
    expect(probeSummary([probe('up'), probe('up'), probe('down'), probe('up', false)])).toBe(
      'LB probes: 2 up, 1 down, 1 not yet answered (node × probe; aks-emu get lb shows each)',
    );
    expect(probeSummary([probe('up')])).toBe('LB probes: 1 up (node × probe; aks-emu get lb shows each)');
    expect(probeSummary([])).toBeUndefined();
  });
});

describe('get lb before the probes have answered', () => {
  it('shows a node whose state is not settled as unknown', () => {
    const lbs = {
      items: [
        {
          name: 'kubernetes',
          backendAddressPools: [{ nodes: ['aks-np-1-vmss000000', 'aks-np-1-vmss000001'] }],
          loadBalancingRules: [{ name: 'a1-TCP-80', frontend: '127.20.0.1:80', service: 'default/web', probe: 'a1-TCP-80' }],
          probes: [
            {
              name: 'a1-TCP-80',
              protocol: 'Tcp',
              port: 31000,
              backends: [
                { node: 'aks-np-1-vmss000000', state: 'up', settled: false },
                { node: 'aks-np-1-vmss000001', state: 'down' },
              ],
            },
          ],
        },
      ],
    };
    expect(printLoadBalancers(lbs, false)).toContain('vmss000000:unknown,vmss000001:down');
  });
});
