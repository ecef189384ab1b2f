import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedRsaKey, keyCacheDir, readCachedKey, type RsaKeyPair } from '../../../src/dataplane/ingress/default-key-cache.js';

const FILE = 'ingress-default-key.pem';

function rsa(): RsaKeyPair {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function pem(keys: RsaKeyPair): string {
  return keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe("the default certificate's key cache", () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'aks-emu-key-test-')), 'cache');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('makes a key once and hands the kept one to the next process, in a file only the user can read', async () => {
    let made = 0;
    const generate = () => {
      made++;
      return Promise.resolve(rsa());
    };
    const first = await cachedRsaKey(dir, generate);
    const second = await cachedRsaKey(dir, generate);
    expect(made).toBe(1);
    expect(pem(second)).toBe(pem(first));
    expect((await stat(join(dir, FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    // No temporary file is left behind.
    expect(await readdir(dir)).toEqual([FILE]);
  });

  it('makes a new key in place of a file that is not a usable RSA 2048 key', async () => {
    await cachedRsaKey(dir, () => Promise.resolve(rsa()));
    await writeFile(join(dir, FILE), 'not a key', { mode: 0o600 });
    expect(await readCachedKey(dir)).toHaveProperty('unusable');
    const replacement = rsa();
    expect(pem(await cachedRsaKey(dir, () => Promise.resolve(replacement)))).toBe(pem(replacement));
    expect(pem((await readCachedKey(dir)) as RsaKeyPair)).toBe(pem(replacement));

    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(join(dir, FILE), ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    expect(await readCachedKey(dir)).toEqual({ unusable: expect.stringContaining('RSA 2048') });
  });

  it('does not trust a key file others can read', async () => {
    const kept = await cachedRsaKey(dir, () => Promise.resolve(rsa()));
    await chmod(join(dir, FILE), 0o644);
    expect(await readCachedKey(dir)).toEqual({ unusable: expect.stringContaining('readable by this user alone') });
    const fresh = rsa();
    expect(pem(await cachedRsaKey(dir, () => Promise.resolve(fresh)))).not.toBe(pem(kept));
  });

  it('keeps nothing with AKS_EMU_KEY_CACHE=off, and uses the directory it names', () => {
    expect(keyCacheDir({ AKS_EMU_KEY_CACHE: 'off' })).toBeUndefined();
    expect(keyCacheDir({ AKS_EMU_KEY_CACHE: '/some/dir' })).toBe('/some/dir');
    expect(keyCacheDir({})).toContain('aks-emu-');
  });
});
