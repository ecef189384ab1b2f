import { X509Certificate } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { defaultCertificate, generateSelfSignedCertificate } from '../../../src/dataplane/ingress/self-signed-cert.js';

// Certificates are made in-process: a child process (openssl) would be a bug here.
const children = vi.hoisted(() => ({ spawn: vi.fn(), execFile: vi.fn() }));
vi.mock('node:child_process', async (original) => ({ ...(await original<typeof import('node:child_process')>()), ...children }));

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

  it('is made in-process (no child openssl) and is a valid self-signed server certificate', async () => {
    {
      for (const keyType of ['rsa', 'ec'] as const) {
        const pair = await generateSelfSignedCertificate({
          commonName: 'Kubernetes Ingress Controller Fake Certificate',
          organization: 'Acme Co',
          dnsNames: ['ingress.local'],
          keyType,
        });
        const cert = new X509Certificate(pair.certPem);
        expect(cert.verify(cert.publicKey)).toBe(true);
        expect(cert.issuer).toBe(cert.subject);
        expect(cert.ca).toBe(false);
        expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
        const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
        expect(Math.round(days)).toBe(365);
      }
    }
    expect(children.spawn).not.toHaveBeenCalled();
    expect(children.execFile).not.toHaveBeenCalled();
  });
});
