import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultCertificate, generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';

describe('self-signed certificates', () => {
  it("makes ingress-nginx's default fake certificate once per process", async () => {
    const first = defaultCertificate();
    expect(defaultCertificate()).toBe(first);
    const cert = new X509Certificate((await first).certPem);
    expect(cert.subject).toContain('CN=Kubernetes Ingress Controller Fake Certificate');
    expect(cert.subject).toContain('O=Acme Co');
    expect(cert.subjectAltName).toBe('DNS:ingress.local');
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('makes a certificate for the given names whose key matches it', async () => {
    const pair = await generateSelfSignedCertificate({ commonName: 'shop.example', dnsNames: ['shop.example', '*.shop.example'], keyType: 'ec' });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.checkHost('a.shop.example')).toBe('*.shop.example');
    const { createPrivateKey } = await import('node:crypto');
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
  });
});
