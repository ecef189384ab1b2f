/**
 * Self-signed certificates, made with the `openssl` command (node:crypto cannot issue
 * X.509 certificates). The controller's default certificate copies ingress-nginx's
 * (internal/net/ssl/ssl.go GetFakeSSLCert): RSA 2048, O=Acme Co,
 * CN=Kubernetes Ingress Controller Fake Certificate, SAN ingress.local, one year. It is
 * served for hosts without a certificate of their own and made once per process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AksEmuError } from '../../errors/index.js';

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
}

export const FAKE_CERTIFICATE_CN = 'Kubernetes Ingress Controller Fake Certificate';

function run(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const why = missing ? 'the openssl command is not installed' : String(stderr).trim() || err.message;
      reject(new AksEmuError('AKS_EMU_PLATFORM', `cannot generate a self-signed certificate: ${why}`, { cause: err }));
    });
  });
}

function escapeSubject(value: string): string {
  return value.replace(/[/\\=+,]/g, (c) => `\\${c}`);
}

export async function generateSelfSignedCertificate(options: SelfSignedOptions): Promise<CertificatePair> {
  const dir = await mkdtemp(join(tmpdir(), 'aks-emu-cert-'));
  try {
    const keyFile = join(dir, 'tls.key');
    const certFile = join(dir, 'tls.crt');
    const subject = `${options.organization ? `/O=${escapeSubject(options.organization)}` : ''}/CN=${escapeSubject(options.commonName)}`;
    const newKey = options.keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
    const args = ['req', '-x509', ...newKey, '-nodes', '-sha256', '-keyout', keyFile, '-out', certFile];
    args.push('-days', String(options.days ?? 365), '-subj', subject);
    args.push('-addext', 'basicConstraints=critical,CA:FALSE');
    args.push('-addext', 'keyUsage=critical,digitalSignature,keyEncipherment');
    args.push('-addext', 'extendedKeyUsage=serverAuth');
    const names = options.dnsNames ?? [];
    if (names.length > 0) args.push('-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`);
    await run(args);
    const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { certPem, keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let fake: Promise<CertificatePair> | undefined;

/** ingress-nginx's default SSL certificate, generated on first use and shared by every controller pod. */
export function defaultCertificate(): Promise<CertificatePair> {
  fake ??= generateSelfSignedCertificate({
    commonName: FAKE_CERTIFICATE_CN,
    organization: 'Acme Co',
    dnsNames: ['ingress.local'],
  }).catch((err: unknown) => {
    fake = undefined;
    throw err;
  });
  return fake;
}
