import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressHolder, explainAddressInUse } from '../../src/runtime/address-holder.js';
import { AksEmuError } from '../../src/errors/index.js';

const inUse = (message: string, address: string, port: number, code = 'EADDRINUSE') =>
  new AksEmuError('AKS_EMU_ADDRESS_IN_USE', message, { cause: Object.assign(new Error(`listen ${code}`), { code, address, port }) });

describe('who holds an address aks-emu cannot bind', () => {
  it.runIf(process.platform === 'linux')('finds the listening process from the kernel socket table', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect(addressHolder('127.0.0.1', port)).toEqual({ pid: process.pid, command: expect.stringContaining('node') });
      expect(addressHolder('127.0.0.2', port)).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says which address, what it was for, who holds it and what to do, in one line', () => {
    const listener = inUse('cannot listen on 127.20.0.1:80 (LB frontend of default/web): EADDRINUSE', '127.20.0.1', 80);
    const err = explainAddressInUse(listener, () => ({ pid: 42, command: 'node /usr/bin/aks-emu up -f app.yaml' }));
    expect(err.code).toBe('AKS_EMU_ADDRESS_IN_USE');
    expect(err.message).toBe(
      '127.20.0.1:80 (LB frontend of default/web) is already in use by process 42 (node /usr/bin/aks-emu up -f app.yaml); another aks-emu runs on these addresses: stop it, or give this one other ranges (addresses: in aks-emu.yaml) and --admin HOST:PORT',
    );
    const pod = inUse('pod shop/web-1: cannot listen on 127.244.0.2:8080: address already in use', '127.244.0.2', 8080);
    expect(explainAddressInUse(pod, () => undefined).message).toBe(
      '127.244.0.2:8080 (pod shop/web-1) is already in use by another process; stop that process, or give aks-emu other ranges (addresses: in aks-emu.yaml) and --admin HOST:PORT',
    );
  });

  it('says an address the machine does not have is not in use but out of reach', () => {
    const err = explainAddressInUse(
      inUse('cannot listen on 10.240.0.4:80 (LB frontend of default/in): EADDRNOTAVAIL', '10.240.0.4', 80, 'EADDRNOTAVAIL'),
      () => {
        throw new Error('no holder is looked for');
      },
    );
    expect(err.code).toBe('AKS_EMU_PLATFORM');
    expect(err.message).toBe(
      '10.240.0.4:80 (LB frontend of default/in) is not an address of this machine: the embedded runtime binds every emulated address on loopback, so keep addresses: and subnets: of aks-emu.yaml inside 127.0.0.0/8',
    );
  });

  it('leaves an error without a failed listen as it is', () => {
    const plain = new AksEmuError('AKS_EMU_ADDRESS_IN_USE', 'control: 1.2.3.4:1 is already in use');
    expect(explainAddressInUse(plain, () => undefined)).toBe(plain);
  });
});
