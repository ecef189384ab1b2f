/**
 * Self-signed certificates, made in-process: node:crypto makes the key pair and the
 * signature, node-forge encodes the X.509 structure (node:crypto can read certificates but
 * not issue them). No child process, so start-up under load cannot time out on it. The
 * controller's default certificate copies ingress-nginx's (internal/net/ssl/ssl.go
 * GetFakeSSLCert): RSA 2048, O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate,
 * SAN ingress.local, one year. It is served for hosts without a certificate of their own
 * and made once per process.
 */
import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { AksEmuError } from '../../errors/index.js';
import { cachedRsaKey, keyCacheDir } from './default-key-cache.js';

export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface SelfSignedOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly dnsNames?: readonly string[];
  readonly days?: number;
  /** `rsa` (2048 bit, as ingress-nginx) or `ec` (P-256, fast: tests). */
  readonly keyType?: 'rsa' | 'ec';
  /** A key pair of keyType to use instead of a new one. */
  readonly keys?: { readonly publicKey: KeyObject; readonly privateKey: KeyObject };
}

export const FAKE_CERTIFICATE_CN = 'Kubernetes Ingress Controller Fake Certificate';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

const { asn1, pki } = forge;
/** In node-forge since 0.7 but missing from @types/node-forge. */
const extensionsToAsn1 = (pki as unknown as { certificateExtensionsToAsn1(exts: unknown[]): forge.asn1.Asn1 }).certificateExtensionsToAsn1;

function keyPair(type: 'rsa' | 'ec'): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(new AksEmuError('AKS_EMU_PLATFORM', `cannot generate a self-signed certificate: ${err.message}`, { cause: err }));
      else resolve({ publicKey, privateKey });
    };
    if (type === 'ec') generateKeyPair('ec', { namedCurve: 'prime256v1' }, done);
    else generateKeyPair('rsa', { modulusLength: 2048 }, done);
  });
}

function seq(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function algorithm(oid: string): forge.asn1.Asn1 {
  const id = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes());
  // RSA signature algorithms carry an explicit NULL parameter; ECDSA ones none (RFC 5758).
  return seq(oid === SHA256_WITH_RSA ? [id, asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')] : [id]);
}

function time(date: Date): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));
}

function fromDer(der: Buffer): forge.asn1.Asn1 {
  return asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
}

function toDer(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export async function generateSelfSignedCertificate(options: SelfSignedOptions): Promise<CertificatePair> {
  const type = options.keyType ?? 'rsa';
  const { publicKey, privateKey } = options.keys ?? (await keyPair(type));
  const sigOid = type === 'ec' ? ECDSA_WITH_SHA256 : SHA256_WITH_RSA;
  // forge fills in the extension values (setExtensions); the public key is node:crypto's SPKI.
  const cert = pki.createCertificate();
  const attrs: forge.pki.CertificateField[] = [];
  if (options.organization) attrs.push({ name: 'organizationName', value: options.organization });
  attrs.push({ name: 'commonName', value: options.commonName });
  cert.setSubject(attrs);
  const names = options.dnsNames ?? [];
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
  ];
  if (names.length > 0) extensions.push({ name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) });
  cert.setExtensions(extensions);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + (options.days ?? 365) * 86_400_000);
  const name = pki.distinguishedNameToAsn1(cert.subject);
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes())]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, serial.toString('binary')),
    algorithm(sigOid),
    name,
    seq([time(notBefore), time(notAfter)]),
    name,
    fromDer(publicKey.export({ type: 'spki', format: 'der' })),
    extensionsToAsn1(cert.extensions as unknown[]),
  ]);
  const signature = sign('sha256', toDer(tbs), privateKey);
  const der = toDer(seq([tbs, algorithm(sigOid), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\0${signature.toString('binary')}`)]));
  const certPem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem, keyPem };
}

let fake: Promise<CertificatePair> | undefined;

/**
 * ingress-nginx's default SSL certificate, made on first use and shared by every controller
 * pod of the process; its RSA key is kept between processes (default-key-cache.ts).
 */
export function defaultCertificate(): Promise<CertificatePair> {
  fake ??= cachedRsaKey(keyCacheDir(), () => keyPair('rsa'))
    .then((keys) =>
      generateSelfSignedCertificate({
        commonName: FAKE_CERTIFICATE_CN,
        organization: 'Acme Co',
        dnsNames: ['ingress.local'],
        keys,
      }),
    )
    .catch((err: unknown) => {
      fake = undefined;
      throw err;
    });
  return fake;
}

/**
 * Begins making the default certificate without waiting for it: the RSA key takes 50 to
 * 500 ms of a thread-pool thread, which would otherwise be spent on the way to the
 * controller pod's first Ready. A failure is not lost: defaultCertificate() forgets a failed
 * attempt, so the controller pod's own call makes it again and fails its start with the error.
 */
export function prefetchDefaultCertificate(): void {
  defaultCertificate().catch(() => undefined);
}
