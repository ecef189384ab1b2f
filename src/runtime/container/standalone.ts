/**
 * `aks-emu role standalone`: the whole cluster in one container with the embedded
 * runtime, for the testcontainers module. Its 127.x addresses exist only inside the
 * container, where no published port can reach them, so the admin API listens on all
 * addresses and each LB frontend is also relayed from the container's own address at
 * its port (published-ports.ts), where Docker's port mapping does reach. The flows
 * enter the frontend from 127.0.0.1, the embedded runtime's "outside the cluster".
 */
import { networkInterfaces } from 'node:os';

import { startAdminServer, type AdminServer } from '../../api/server.js';
import type { ClusterConfig } from '../../config/types.js';
import { AksEmuError } from '../../errors/index.js';
import { loadManifests } from '../../manifests/index.js';
import { EmbeddedCluster } from '../embedded-cluster.js';
import { PublishedPorts, publishPlan } from './published-ports.js';

export interface StandaloneOptions {
  readonly files: readonly string[];
  readonly config: ClusterConfig;
  /** Where frontends are relayed from: an address of this container, or undefined for its first non-loopback IPv4. */
  readonly publishAddress?: string;
  readonly log?: (line: string) => void;
}

export interface Standalone {
  readonly cluster: EmbeddedCluster;
  readonly admin: AdminServer;
  readonly publishAddress: string;
  stop(): Promise<void>;
}

export function firstExternalAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found !== undefined) return found.address;
  }
  return undefined;
}

export async function startStandalone(options: StandaloneOptions): Promise<Standalone> {
  const log = options.log ?? (() => {});
  const publishAddress = options.publishAddress ?? firstExternalAddress();
  if (publishAddress === undefined) throw new AksEmuError('AKS_EMU_PLATFORM', 'this container has no network interface to publish frontends on');
  const { manifests, notices } = await loadManifests([...options.files]);
  for (const notice of notices) log(notice);
  const cluster = await EmbeddedCluster.start({ config: options.config, manifests, log });
  const published = new PublishedPorts(publishAddress, '127.0.0.1', log);
  let admin: AdminServer;
  try {
    // Bound to every address of the container, the admin API requires a token: the one the starter gave (AKS_EMU_ADMIN_TOKEN), else a new one.
    const token = process.env.AKS_EMU_ADMIN_TOKEN || undefined;
    admin = await startAdminServer(cluster, options.config.admin.host, options.config.admin.port, token ? { token } : {});
    await published.update(publishPlan(cluster.snapshot, { internal: true }));
  } catch (err) {
    await published.stop();
    await cluster.stop();
    throw err;
  }
  const onSnapshot = (): void => {
    published.update(publishPlan(cluster.snapshot, { internal: true })).catch((err: Error) => log(`error: ${err.message}`));
  };
  cluster.on('snapshot', onSnapshot);
  return {
    cluster,
    admin,
    publishAddress,
    stop: async () => {
      cluster.off('snapshot', onSnapshot);
      await published.stop();
      await admin.close();
      await cluster.stop();
    },
  };
}
