import { describe, expect, it } from 'vitest';
import { cidrContains, cidrSize, formatIPv4, isCIDRText, isIPAddress, parseCIDR, parseIPv4 } from '../../src/manifests/ip.js';

describe('IPv4 helpers', () => {
  it('parses dotted quads into unsigned numbers and formats them back', () => {
    expect(parseIPv4('10.0.0.1')).toBe(167772161);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(formatIPv4(167772161)).toBe('10.0.0.1');
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255');
  });

  it('rejects anything that is not a plain dotted quad', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', 'a.b.c.d', '', '::1', '1.2.3.-4']) {
      expect(parseIPv4(bad), bad).toBeUndefined();
    }
  });

  it('parses a CIDR, clearing host bits as Go does', () => {
    expect(parseCIDR('10.0.0.0/16')).toEqual({ base: 167772160, bits: 16 });
    expect(parseCIDR('10.0.5.7/16')).toEqual({ base: 167772160, bits: 16 });
    expect(parseCIDR('0.0.0.0/0')).toEqual({ base: 0, bits: 0 });
    expect(parseCIDR('10.0.0.0/33')).toBeUndefined();
    expect(parseCIDR('10.0.0.0')).toBeUndefined();
    expect(parseCIDR('10.0.0.0/08')).toBeUndefined();
  });

  it('tells whether an address lies inside a range', () => {
    expect(cidrContains('127.0.0.0/8', '127.244.0.5')).toBe(true);
    expect(cidrContains('127.0.0.0/8', '128.0.0.1')).toBe(false);
    expect(cidrContains(parseCIDR('10.244.1.0/24')!, parseIPv4('10.244.1.255')!)).toBe(true);
    expect(cidrContains('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(cidrContains('127.0.0.0/8', 'not-an-ip')).toBe(false);
  });

  it('counts the addresses of a range', () => {
    expect(cidrSize(parseCIDR('10.0.0.0/16')!)).toBe(65536);
    expect(cidrSize(parseCIDR('10.0.0.1/32')!)).toBe(1);
  });

  it('accepts IPv6 where Kubernetes fields accept any IP family', () => {
    expect(isIPAddress('2001:db8::1')).toBe(true);
    expect(isIPAddress('10.9.8.7')).toBe(true);
    expect(isIPAddress('10.9.8')).toBe(false);
    expect(isCIDRText('2001:db8::/64')).toBe(true);
    expect(isCIDRText('10.9.8.0/24')).toBe(true);
    expect(isCIDRText('10.9.8.0/40')).toBe(false);
    expect(isCIDRText('10.9.8.0')).toBe(false);
  });
});
