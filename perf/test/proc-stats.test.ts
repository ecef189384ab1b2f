import { describe, expect, it } from 'vitest';
import { countOpenAt, parseCpuSeconds, parseFileLimit, parseHardFileLimit, parseStatusBytes, procNetAddress } from '../proc-stats.js';

describe('reading /proc', () => {
  it('adds user and system ticks even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (perf) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 11 0 1000 0 0';
    expect(parseCpuSeconds(stat)).toBe(4);
  });

  it('reads kB fields of the status file as bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  143824 kB\nVmRSS:\t  129212 kB\n';
    expect(parseStatusBytes(status, 'VmRSS')).toBe(129212 * 1024);
    expect(parseStatusBytes(status, 'VmHWM')).toBe(143824 * 1024);
    expect(parseStatusBytes(status, 'VmSwap')).toBeUndefined();
  });

  it('reads the soft open-file limit', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n';
    expect(parseFileLimit(limits)).toBe(20000);
    expect(parseFileLimit('Max open files            unlimited            unlimited            files')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads the hard limit of open files, not the soft one', () => {
    expect(parseHardFileLimit('Max open files            1024                 20000                files\n')).toBe(20000);
    expect(parseHardFileLimit('Max open files            1024                 unlimited            files')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('writes an address the way /proc/net/tcp does', () => {
    expect(procNetAddress('127.67.0.1', 80)).toBe('0100437F:0050');
  });

  it('counts connections from the given peers still holding a descriptor at a local address, not listeners or TIME_WAIT', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue',
      '   0: 0100437F:0050 00000000:0000 0A 00000000:00000000',
      '   1: 0100437F:0050 0100007F:A592 01 00000000:00000000',
      '   2: 0100437F:0050 0100007F:A593 08 00000000:00000000',
      '   3: 0100437F:0050 0100007F:A594 06 00000000:00000000',
      '   4: 0200437F:0050 0100007F:A595 01 00000000:00000000',
      '   5: 0100437F:0050 0400407F:A596 01 00000000:00000000',
    ].join('\n');
    expect(countOpenAt(table, '127.67.0.1', 80, ['127.0.0.1'])).toBe(2);
    expect(countOpenAt(table, '127.67.0.1', 80, ['127.0.0.1', '127.64.0.4'])).toBe(3);
  });
});
