import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';

describe('cluster configuration', () => {
  it('defaults to 16Mi per manifest file, four times that in all, and 110 pods per node (AKS kubenet)', () => {
    const config = buildConfig({});
    expect(config.maxManifestFileBytes).toBe(16 * 1024 * 1024);
    expect(config.maxManifestTotalBytes).toBe(64 * 1024 * 1024);
    expect(config.maxPods).toBe(110);
  });

  it('takes byte limits as numbers or quantities, and raises the total with a larger per-file limit', () => {
    expect(buildConfig({ limits: { manifestFileBytes: '32Mi' } })).toMatchObject({
      maxManifestFileBytes: 32 * 1024 ** 2,
      maxManifestTotalBytes: 128 * 1024 ** 2,
    });
    expect(buildConfig({ limits: { manifestFileBytes: 1000, manifestTotalBytes: '2k' } })).toMatchObject({
      maxManifestFileBytes: 1000,
      maxManifestTotalBytes: 2000,
    });
    expect(buildConfig({ maxPods: 250 }).maxPods).toBe(250);
  });

  it('names every bad limit at once', () => {
    expect(() => buildConfig({ limits: { manifestFileBytes: '16MB', manifestTotalBytes: -1, bogus: 1 } as never, maxPods: 300 }, 'aks-emu.yaml')).toThrow(
      [
        'aks-emu.yaml: limits.manifestFileBytes: Invalid value: "16MB": must be a number of bytes, such as 16777216 or 16Mi',
        'aks-emu.yaml: limits.manifestTotalBytes: Invalid value: -1: must be a number of bytes, such as 16777216 or 16Mi',
        'aks-emu.yaml: limits.bogus: unknown field (known: frontendsPerLoadBalancer, rulesPerLoadBalancer, manifestFileBytes, manifestTotalBytes)',
        'aks-emu.yaml: maxPods: Invalid value: 300: must be a whole number from 10 to 250 (AKS --max-pods)',
      ].join('\n'),
    );
  });
});
