/**
 * The RSA key of ingress-nginx's default certificate, kept between processes. Making an
 * RSA 2048 key takes 50 ms to more than a second of a thread-pool thread (the prime search
 * is random, and slower under load), and the controller pod is not Ready before its
 * certificate exists: in a test file that imports aks-emu and starts a cluster at once,
 * that wait was most of startCluster(). The key is kept in a directory of the user's own
 * (`$TMPDIR/aks-emu-<uid>`, or AKS_EMU_KEY_CACHE; `off` keeps nothing), readable by the user
 * alone; each process still makes a certificate of its own (serial, validity) over it.
 * A key that is missing, unreadable, not RSA 2048, or in a file or directory others could
 * change is not used: a new one is made and written in its place.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RsaKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

const FILE = 'ingress-default-key.pem';
const MODULUS_BITS = 2048;

/** Where the key is kept; undefined when AKS_EMU_KEY_CACHE is `off`. */
export function keyCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env['AKS_EMU_KEY_CACHE'];
  if (configured === 'off') return undefined;
  if (configured !== undefined && configured !== '') return configured;
  return join(tmpdir(), `aks-emu-${process.getuid?.() ?? 'user'}`);
}

/** Owned by this user and writable by nobody else (a directory or file another user could swap is not trusted). */
function ownedAndPrivate(stat: { uid: number; mode: number }, privateBits: number): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || stat.uid === uid) && (stat.mode & privateBits) === 0;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The kept key, or why it cannot be used. */
export async function readCachedKey(dir: string): Promise<RsaKeyPair | { readonly unusable: string }> {
  const file = join(dir, FILE);
  try {
    const stat = await lstat(file);
    if (!stat.isFile() || !ownedAndPrivate(stat, 0o077)) return { unusable: `${file} is not a file readable by this user alone` };
    const privateKey = createPrivateKey(await readFile(file, 'utf8'));
    if (privateKey.asymmetricKeyType !== 'rsa' || privateKey.asymmetricKeyDetails?.modulusLength !== MODULUS_BITS)
      return { unusable: `${file} does not hold an RSA ${MODULUS_BITS} key` };
    return { privateKey, publicKey: createPublicKey(privateKey) };
  } catch (err) {
    return { unusable: isNotFound(err) ? `${file} does not exist` : `${file}: ${(err as Error).message}` };
  }
}

/** Writes the key (a new file renamed into place, so a reader never sees half of it); returns why not, if it could not. */
export async function writeCachedKey(dir: string, privateKey: KeyObject): Promise<string | undefined> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stat = await lstat(dir);
    if (!stat.isDirectory() || !ownedAndPrivate(stat, 0o022)) return `${dir} is not a directory only this user can write`;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const temp = join(dir, `${FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, pem, { mode: 0o600, flag: 'wx' });
    try {
      await rename(temp, join(dir, FILE));
    } catch (err) {
      await unlink(temp).catch(() => undefined); // the rename's error is the one reported
      throw err;
    }
    return undefined;
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
}

/**
 * The kept key when there is a usable one; otherwise `generate()`'s, written for the next
 * process. A cache that cannot be written costs the next process a new key, nothing more.
 */
export async function cachedRsaKey(dir: string | undefined, generate: () => Promise<RsaKeyPair>): Promise<RsaKeyPair> {
  if (dir === undefined) return generate();
  const kept = await readCachedKey(dir);
  if ('privateKey' in kept) return kept;
  const made = await generate();
  await writeCachedKey(dir, made.privateKey);
  return made;
}
