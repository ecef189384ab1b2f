import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { LOCAL_BASE_IMAGE, describeWithDocker, docker } from './docker-available.js';

const buildScript = fileURLToPath(new URL('../../docker/build-local-base.sh', import.meta.url));

// No network: the image is checked in isolation, and nothing it runs can send traffic.
const runInBase = (...command: string[]): Promise<string> => docker(['run', '--rm', '--network', 'none', LOCAL_BASE_IMAGE, ...command]);

describeWithDocker('the local base image (aks-emu/node-base:local)', () => {
  beforeAll(async () => {
    // Idempotent: returns at once when the image already carries this node version.
    await promisify(execFile)('bash', [buildScript], { timeout: 55_000 });
  });

  it('runs the same node version as the host that built it', async () => {
    expect((await runInBase('node', '-e', 'console.log(process.version)')).trim()).toBe(process.version);
  });

  it('records the node version in the label that the build script skips on', async () => {
    const label = await docker(['image', 'inspect', LOCAL_BASE_IMAGE, '--format', '{{ index .Config.Labels "io.aks-emu.base.node-version" }}']);
    expect(label.trim()).toBe(process.version);
  });

  it('has busybox sh, wget and ip for the node role and the toolbox', async () => {
    const out = await runInBase('sh', '-c', 'wget --help >/dev/null 2>&1; ip -4 addr show lo');
    expect(out).toContain('inet 127.0.0.1/8');
  });

  it('has the applets a toolbox session reaches for', async () => {
    const applets = ['nslookup', 'nc', 'cat', 'ls', 'sleep', 'timeout'];
    const out = await runInBase('sh', '-c', `for a in ${applets.join(' ')}; do readlink /bin/$a; done`);
    expect(out.trim().split('\n')).toEqual(applets.map(() => 'busybox'));
  });

  it('lets the unprivileged node user write to a sticky /tmp', async () => {
    const out = await runInBase('sh', '-c', 'stat -c %a /tmp; su node -s /bin/sh -c "id -un; touch /tmp/probe"');
    expect(out.trim().split('\n')).toEqual(['1777', 'node']);
  });
});
