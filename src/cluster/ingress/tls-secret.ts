/**
 * `kubernetes.io/tls` Secrets as the controller reads them: base64 `tls.crt` and `tls.key`
 * that must parse and belong together. ingress-nginx falls back to its default (fake)
 * certificate, and logs, when they do not (internal/ingress/controller/store/backend_ssl.go).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Secret } from '../../model/types.js';

export type TlsSecretResult =
  { readonly ok: true; readonly certPem: string; readonly keyPem: string; readonly cert: X509Certificate } | { readonly ok: false; readonly problem: string };

function decode(secret: Secret, key: string): string | undefined {
  const value = secret.data[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}

export function readTlsSecret(secrets: readonly Secret[], namespace: string, name: string): TlsSecretResult {
  const secret = secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === name);
  if (!secret) return { ok: false, problem: `Secret ${namespace}/${name} not found` };
  const certPem = decode(secret, 'tls.crt');
  const keyPem = decode(secret, 'tls.key');
  if (certPem === undefined || keyPem === undefined) {
    return { ok: false, problem: `Secret ${namespace}/${name} has no tls.crt or no tls.key` };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    return { ok: false, problem: `Secret ${namespace}/${name}: tls.crt is not a PEM certificate (${(err as Error).message})` };
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
      return { ok: false, problem: `Secret ${namespace}/${name}: tls.key is not the private key of tls.crt` };
    }
  } catch (err) {
    return { ok: false, problem: `Secret ${namespace}/${name}: tls.key is not a PEM private key (${(err as Error).message})` };
  }
  return { ok: true, certPem, keyPem, cert };
}

/** Go's VerifyHostname as ingress-nginx uses it; a wildcard server name is checked with a sample label. */
export function certificateMatchesHost(cert: X509Certificate, host: string): boolean {
  const name = host.startsWith('*.') ? `aks-emu-wildcard${host.slice(1)}` : host;
  return cert.checkHost(name) !== undefined;
}
