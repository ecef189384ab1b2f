import { describe, expect, it } from 'vitest';
import { directOf, isExternalRow, modeOf, parseArgs, BODY_BYTES } from '../options.js';

describe('perf options', () => {
  it('runs every row and mode for 5 rounds of 5 s by default', () => {
    const s = parseArgs([], '/out');
    expect(s).toMatchObject({ quick: false, rounds: 5, durationS: 5, connections: 32, pipelining: 1, idleConnections: 10_000, pin: true, outDir: '/out' });
    expect(s.rows).toEqual([
      'direct-external',
      'lb-external',
      'nodeport-external',
      'clusterip-external',
      'ingress-external',
      'haproxy-external',
      'nginx-external',
      'direct',
      'clusterip',
      'nodeport',
      'lb',
      'ingress',
      'gateway',
      'haproxy',
      'nginx',
      'process-direct',
      'process-lb',
      'haproxy-process',
    ]);
    expect(s.modes).toEqual(['keepalive', 'churn', 'body']);
  });

  it('holds the external rows against the external backend and their own anchors', () => {
    expect(directOf('lb-external')).toBe('direct-external');
    expect(directOf('haproxy-external')).toBe('direct-external');
    expect(directOf('process-lb')).toBe('process-direct');
    expect(directOf('lb')).toBe('direct');
    expect(isExternalRow('nginx-external')).toBe(true);
    expect(isExternalRow('lb')).toBe(false);
  });

  it('puts an @base row right after each baseline-capable row when --baseline names a checkout', () => {
    const s = parseArgs(['--baseline', '/tmp/base', '--rows', 'direct-external,lb-external,haproxy-external,ingress'], '/out');
    expect(s.baseline).toBe('/tmp/base');
    expect(s.rows).toEqual(['direct-external', 'lb-external', 'lb-external@base', 'haproxy-external', 'ingress', 'ingress@base']);
    expect(directOf('lb-external@base')).toBe('direct-external');
    expect(directOf('ingress@base')).toBe('direct');
    expect(parseArgs(['--rows', 'lb'], '/out').rows).toEqual(['lb']);
  });

  it('shortens rounds with --quick and lets explicit flags win', () => {
    const s = parseArgs(['--quick', '--rounds', '3', '--rows', 'direct,lb', '--no-pin', '--idle', '0'], '/out');
    expect(s).toMatchObject({ quick: true, rounds: 3, durationS: 1, pin: false, idleConnections: 0, rows: ['direct', 'lb'] });
  });

  it('narrows a profile run to the keep-alive lb row', () => {
    const s = parseArgs(['--profile'], '/out');
    expect(s).toMatchObject({ profile: true, modes: ['keepalive'], rows: ['lb'], idleConnections: 0 });
  });

  it('profiles the aks-emu row that --rows names instead, without its anchor', () => {
    expect(parseArgs(['--profile', '--rows', 'nginx,ingress'], '/out')).toMatchObject({ modes: ['keepalive'], rows: ['ingress'] });
    expect(() => parseArgs(['--profile', '--rows', 'nginx'], '/out')).toThrow(/aks-emu row/);
    expect(parseArgs(['--profile', '--rows', 'lb-external', '--modes', 'churn,body'], '/out')).toMatchObject({ modes: ['churn'], rows: ['lb-external'] });
  });

  it('rejects unknown flags, rows and bad numbers', () => {
    expect(() => parseArgs(['--fast'], '/out')).toThrow(/unknown option --fast/);
    expect(() => parseArgs(['--rows', 'lb,envoy'], '/out')).toThrow(/unknown "envoy"/);
    expect(() => parseArgs(['--rounds', '0'], '/out')).toThrow(/positive/);
    expect(() => parseArgs(['--duration'], '/out')).toThrow(/needs a value/);
  });

  it('asks for a new connection per request only in the churn mode, and for 1 MiB only in the body mode', () => {
    expect(modeOf('churn', { pipelining: 4 })).toMatchObject({ churn: true, pipelining: 1, path: '/' });
    expect(modeOf('keepalive', { pipelining: 4 })).toMatchObject({ churn: false, pipelining: 4 });
    expect(modeOf('body', { pipelining: 4 })).toMatchObject({ path: `/?size=${BODY_BYTES}`, minBodyBytes: BODY_BYTES });
  });
});
