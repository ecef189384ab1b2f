import { afterEach, describe, expect, it } from 'vitest';

import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { connectOutcome } from '../helpers/net.js';
import { webManifests } from '../helpers/web-manifests.js';
import { completeBody, slowDownload, TEN_MB } from '../helpers/slow-download.js';

const MANIFESTS = webManifests();

/** Far longer than any test may take: a stop that waits for it has failed the test. */
const LONG_GRACE_MS = 10 * 60_000;

describe('cluster.stop({ graceMs })', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  async function start(): Promise<{ ip: string }> {
    cluster = await startCluster({
      manifests: MANIFESTS,
      nodes: 2,
      timeScale: 0.02,
      seed: 5,
      admin: false,
      config: { addresses: addressBlock(13), ingress: { enabled: false } },
    });
    return { ip: cluster.service('web').loadBalancerIP! };
  }

  it('stops accepting at once and lets a 10 MB body in flight finish', async () => {
    const { ip } = await start();
    const download = slowDownload(ip, 80, TEN_MB);
    await download.started;
    const stopped = cluster!.stop({ graceMs: LONG_GRACE_MS });
    await expect.poll(() => connectOutcome(ip, 80)).toBe('ECONNREFUSED');
    const { bytes, ended } = await download.finish();
    expect(ended).toBe('end');
    expect(completeBody(bytes)?.length).toBe(TEN_MB);
    await stopped;
  });

  it('resets what is still open when stop is called again without a grace period', async () => {
    const { ip } = await start();
    const download = slowDownload(ip, 80, TEN_MB);
    await download.started;
    const draining = cluster!.stop({ graceMs: LONG_GRACE_MS });
    await cluster!.stop();
    await draining;
    const { bytes } = await download.finish();
    expect(completeBody(bytes)).toBeUndefined();
  });
});
