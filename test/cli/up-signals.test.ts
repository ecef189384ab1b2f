import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { addressBlock } from '../helpers/addresses.js';
import { completeBody, slowDownload, TEN_MB } from '../helpers/slow-download.js';
import { webManifests } from '../helpers/web-manifests.js';

const BIN = new URL('../../bin/aks-emu.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'aks-emu-signals-'));
const manifests = join(dir, 'app.yaml');
writeFileSync(manifests, webManifests({ replicas: 1 }));
const configFile = join(dir, 'aks-emu.yaml');
writeFileSync(
  configFile,
  `addresses:\n${Object.entries(addressBlock(14))
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')}\nseed: 3\nadmin: 127.0.0.1:0\ningress: { enabled: false }\n`,
);

interface Up {
  readonly child: ChildProcess;
  readonly frontend: string;
  output(): string;
  exited: Promise<number | null>;
}

/** `aks-emu up` with a grace period no test may wait out: a stop that waits for it fails the test. */
function startUp(): Promise<Up> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      BIN,
      'up',
      '-f',
      manifests,
      '--config',
      configFile,
      '--nodes',
      '1',
      '--time-scale',
      '0.02',
      '--grace-period',
      '600',
    ]);
    let out = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stdout!.on('data', (c) => {
      out += c;
      const frontend = /try: +curl http:\/\/([\d.]+):80\//.exec(out)?.[1];
      if (out.includes('Press Ctrl+C to stop.') && frontend !== undefined) resolve({ child, frontend, output: () => out, exited });
    });
    child.stderr!.on('data', (c) => (out += c));
    void exited.then((code) => reject(new Error(`aks-emu up exited with ${code}:\n${out}`)));
  });
}

describe('aks-emu up on SIGTERM', () => {
  it('refuses a grace period that is not a number of seconds, naming the flag', async () => {
    const child = spawn(process.execPath, [BIN, 'up', '-f', manifests, '--config', configFile, '--grace-period', '5s']);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(out).toContain('invalid value "5s" for flag --grace-period');
  });

  let up: Up | undefined;
  afterEach(() => {
    if (up?.child.exitCode === null) up.child.kill('SIGKILL');
    up = undefined;
  });

  it('lets a 10 MB body in flight finish, then exits 0', async () => {
    up = await startUp();
    const download = slowDownload(up.frontend, 80, TEN_MB);
    await download.started;
    up.child.kill('SIGTERM');
    await expect.poll(() => up!.output()).toContain('SIGTERM: stopping');
    const { bytes } = await download.finish();
    expect(completeBody(bytes)?.length).toBe(TEN_MB);
    expect(await up.exited).toBe(0);
    expect(up.output()).toContain('stopped: every listener closed');
  });

  it('stops at once on a second SIGTERM, resetting what is still open', async () => {
    up = await startUp();
    const download = slowDownload(up.frontend, 80, TEN_MB);
    await download.started;
    up.child.kill('SIGTERM');
    await expect.poll(() => up!.output()).toContain('SIGTERM: stopping');
    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(143);
    expect(up.output()).toContain('open connections reset');
    const { bytes } = await download.finish();
    expect(completeBody(bytes)).toBeUndefined();
  });
}, 60_000);
