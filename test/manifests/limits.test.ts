import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejection } from './helpers.js';
import { loadManifests, parseManifests } from '../../src/manifests/index.js';
import { formatByteSize, parseByteSize } from '../../src/manifests/limits.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-emu-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n---\n';

/** A file of whole Service documents, written in small chunks so the test itself holds little memory. */
function manifestOfSize(name: string, bytes: number): string {
  const path = join(dir, name);
  const chunk = Buffer.from(SERVICE.repeat(Math.ceil(65536 / SERVICE.length)));
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes; written += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  closeSync(fd);
  return path;
}

describe('manifest size limits', () => {
  it('reads byte sizes as Kubernetes quantities and prints them back', () => {
    expect(parseByteSize('16Mi')).toBe(16 * 1024 * 1024);
    expect(parseByteSize('500k')).toBe(500_000);
    expect(parseByteSize(' 1048576 ')).toBe(1048576);
    expect(parseByteSize(4096)).toBe(4096);
    for (const bad of ['16MB', '-1', '0', '1.5Mi', '', 'lots', 0, 1.5]) expect(parseByteSize(bad)).toBeUndefined();
    expect(formatByteSize(16 * 1024 * 1024)).toBe('16Mi');
    expect(formatByteSize(52_428_801)).toBe('52428801 bytes (50.0 MiB)');
  });

  it('refuses a 50 MB manifest before reading it, naming the file, with little memory growth', async () => {
    const big = manifestOfSize('big.yaml', 50 * 1024 * 1024);
    const before = process.memoryUsage().rss;
    const err = await rejection(loadManifests([big]));
    const growth = process.memoryUsage().rss - before;
    expect(err.code).toBe('AKS_EMU_MANIFEST_TOO_LARGE');
    expect(err.status).toBe(413);
    expect(err.message).toBe(
      `${big}: the file is 50Mi, over the 16Mi limit for one manifest file (raise it with --max-manifest-size or limits.manifestFileBytes in aks-emu.yaml)`,
    );
    // Parsing it took 1.9 GB before the limit; reading it alone would take 50 MB.
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('names every file over the limit at once, and loads them when the limit is raised', async () => {
    const a = manifestOfSize('a.yaml', 3000);
    const b = manifestOfSize('b.yaml', 2500);
    const small = manifestOfSize('small.yaml', SERVICE.length);
    const err = await rejection(loadManifests([a, small, b], { maxFileBytes: 2048 }));
    expect(err.message.split('\n')).toEqual([
      `${a}: the file is 3000 bytes, over the 2Ki limit for one manifest file (raise it with --max-manifest-size or limits.manifestFileBytes in aks-emu.yaml)`,
      `${b}: the file is 2500 bytes, over the 2Ki limit for one manifest file (raise it with --max-manifest-size or limits.manifestFileBytes in aks-emu.yaml)`,
    ]);
    const one = manifestOfSize('one.yaml', SERVICE.length);
    expect((await loadManifests([one], { maxFileBytes: 4096 })).manifests.services).toHaveLength(1);
  });

  it('bounds the total of one load', async () => {
    const files = ['t1.yaml', 't2.yaml', 't3.yaml'].map((n) => manifestOfSize(n, 1500));
    const err = await rejection(loadManifests(files, { maxFileBytes: 1024 * 1024, maxTotalBytes: 4000 }));
    expect(err.code).toBe('AKS_EMU_MANIFEST_TOO_LARGE');
    expect(err.message).toBe(
      'the 3 manifest files hold 4500 bytes in all, over the 4000 bytes limit for one load (raise it with limits.manifestTotalBytes in aks-emu.yaml)',
    );
  });

  it('stops reading a file without a size (a device, a pipe) one byte past the limit', async () => {
    const err = await rejection(loadManifests(['/dev/zero'], { maxFileBytes: 1024 }));
    expect(err.code).toBe('AKS_EMU_MANIFEST_TOO_LARGE');
    expect(err.message).toMatch(/^\/dev\/zero: the file is more than 1Ki, over the 1Ki limit/);
  });

  it('applies the same limits to in-memory text', () => {
    expect(() => parseManifests([{ file: '<inline>', text: SERVICE.repeat(40) }], { maxFileBytes: 1024 })).toThrow(
      /^<inline>: the file is 4240 bytes, over the 1Ki limit/,
    );
    expect(parseManifests([{ file: '<inline>', text: SERVICE }], { maxFileBytes: 1024 }).manifests.services).toHaveLength(1);
  });

  it('counts bytes, not characters', () => {
    const text = `${SERVICE.slice(0, -4)}# ${'é'.repeat(600)}\n`;
    expect(text.length).toBeLessThan(1024);
    expect(() => parseManifests([{ file: 'x.yaml', text }], { maxFileBytes: 1024 })).toThrow(/over the 1Ki limit/);
  });
});
