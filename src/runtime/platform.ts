import { createServer } from 'node:net';
import { AksEmuError } from '../errors/index.js';

/**
 * The embedded runtime gives every node, pod, VIP and frontend its own 127.x address.
 * Linux routes all of 127.0.0.0/8 to lo; macOS has only 127.0.0.1 unless aliases are added.
 */
export async function assertLoopbackRange(probeAddress: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRNOTAVAIL') {
        reject(
          new AksEmuError(
            'AKS_EMU_PLATFORM',
            `cannot bind ${probeAddress}: this platform does not route all of 127.0.0.0/8 to loopback ` +
              `(macOS routes only 127.0.0.1). aks-emu's embedded runtime gives each node, pod and frontend ` +
              `its own 127.x address; on macOS add aliases first (sudo ifconfig lo0 alias ${probeAddress} up, ` +
              `one per address) or use the container runtime (docker compose up).`,
            { cause: err },
          ),
        );
      } else reject(err);
    });
    server.listen(0, probeAddress, () => server.close(() => resolve()));
  });
}
