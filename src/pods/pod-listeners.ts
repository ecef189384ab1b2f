/**
 * Binding a pod's listeners on its own IP, for every pod runtime: all bind or none stay
 * bound, and a failure names the pod and the address:port.
 */
import type { Server } from 'node:net';
import type { PodInfo } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';
import { guardConnections, releaseHeld, type PolicyLookup } from './policy-guard.js';

function bindError(pod: PodInfo, err: NodeJS.ErrnoException, port: number): AksEmuError {
  const where = `pod ${pod.namespace}/${pod.name}: cannot listen on ${pod.ip}:${port}`;
  if (err.code === 'EADDRNOTAVAIL') return new AksEmuError('AKS_EMU_PLATFORM', `${where}: the address is not local`, { cause: err });
  const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.message;
  return new AksEmuError('AKS_EMU_ADDRESS_IN_USE', `${where}: ${why}`, { cause: err });
}

/**
 * Listens on pod.ip for each server's port; on any failure closes them all and rejects.
 * With `policy`, connections NetworkPolicy denies never reach the servers' handlers.
 */
export async function listenAll(pod: PodInfo, listeners: readonly { readonly server: Server; readonly port: number }[], policy?: PolicyLookup): Promise<void> {
  if (policy !== undefined) for (const { server, port } of listeners) guardConnections(server, pod.ip, port, policy);
  const results = await Promise.allSettled(
    listeners.map(
      ({ server, port }) =>
        new Promise<void>((resolve, reject) => {
          server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(pod, err, port)));
          server.listen({ host: pod.ip, port }, () => resolve());
        }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return;
  await closeAll(listeners.map((l) => l.server));
  throw failed.reason;
}

/** Stops listening; resolves when every server has closed. */
export function closeAll(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          server.close(() => resolve());
          releaseHeld(server);
        }),
    ),
  ).then(() => undefined);
}
