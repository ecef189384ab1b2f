import { describe, expect, it } from 'vitest';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
} from '../../../src/manifests/validation/names.js';

describe('Kubernetes name formats', () => {
  it('words a bad DNS-1035 label exactly as apimachinery does', () => {
    expect(isDNS1035Label('1web')).toEqual([
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
    expect(isDNS1035Label('web-1')).toEqual([]);
  });

  it('words a bad DNS-1123 subdomain exactly as apimachinery does', () => {
    expect(isDNS1123Subdomain('Web')).toEqual([
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(isDNS1123Subdomain('my.app-1')).toEqual([]);
  });

  it('says a DNS label with dots must not contain dots', () => {
    expect(isDNS1123Label('a.b')).toEqual(['must not contain dots']);
    expect(isDNS1123Label('123-abc')).toEqual([]);
  });

  it('limits lengths as Kubernetes does', () => {
    expect(isDNS1123Label('a'.repeat(64))).toContain('must be no more than 63 characters');
    expect(isDNS1123Subdomain('a'.repeat(254))).toContain('must be no more than 253 characters');
  });

  it('checks IANA port names', () => {
    expect(isValidPortName('http')).toEqual([]);
    expect(isValidPortName('8080')).toEqual(['must contain at least one letter (a-z)']);
    expect(isValidPortName('-http--x')).toEqual(['must not contain consecutive hyphens', 'must not begin or end with a hyphen']);
    expect(isValidPortName('a-very-long-port-name')).toEqual(['must be no more than 15 characters']);
  });

  it('checks port numbers', () => {
    expect(isValidPortNum(1)).toEqual([]);
    expect(isValidPortNum(65535)).toEqual([]);
    expect(isValidPortNum(0)).toEqual(['must be between 1 and 65535, inclusive']);
  });

  it('checks label keys and values', () => {
    expect(isQualifiedName('app.kubernetes.io/name')).toEqual([]);
    expect(isQualifiedName('a/b/c')[0]).toMatch(/^a valid label key must consist/);
    expect(isQualifiedName('Bad_/x')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(isLabelValue('')).toEqual([]);
    expect(isLabelValue('-x')[0]).toMatch(/^a valid label must be an empty string/);
  });

  it('checks wildcard hosts and data keys', () => {
    expect(isWildcardDNS1123Subdomain('*.example.com')).toEqual([]);
    expect(isWildcardDNS1123Subdomain('*.*.example.com')).toHaveLength(1);
    expect(isConfigMapKey('tls.crt')).toEqual([]);
    expect(isConfigMapKey('..x')).toEqual(["must not start with '..'"]);
  });
});
