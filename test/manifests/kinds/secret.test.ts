import { describe, expect, it } from 'vitest';
import { fieldErrors, load } from '../helpers.js';

const secret = (fields: object) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, ...fields });

describe('Secret', () => {
  it('merges stringData over data, keeping everything base64', () => {
    const [s] = load([secret({ data: { user: 'YWRtaW4=', pass: 'b2xk' }, stringData: { pass: 'new' } })]).manifests.secrets;
    expect(s).toMatchObject({ kind: 'Secret', type: 'Opaque', data: { user: 'YWRtaW4=', pass: Buffer.from('new').toString('base64') } });
  });

  it('rejects data that is not base64 without echoing it', () => {
    expect(fieldErrors([secret({ data: { token: 'not base64!' } })])).toEqual([
      'data[token]: Invalid value: "<secret data>": illegal base64 data at input byte 3',
    ]);
  });

  it('requires the keys of a TLS secret', () => {
    expect(fieldErrors([secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y3J0' } })])).toEqual(['data[tls.key]: Required value']);
  });

  it('treats an unknown type as opaque, whatever its name', () => {
    expect(load([secret({ type: 'constructor', stringData: { a: 'b' } })]).manifests.secrets[0]?.type).toBe('constructor');
  });

  it('checks data keys', () => {
    expect(fieldErrors([secret({ stringData: { 'a b': 'x' } })])[0]).toMatch(/^stringData\[a b\]: Invalid value: "a b": a valid config key must consist/);
  });
});
