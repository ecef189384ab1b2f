import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { buildWorkloads, imageMatches, parseWorkloadFlag } from '../../src/config/workloads.js';

const problems = (input: unknown, base = tmpdir()) => {
  const found: string[] = [];
  const out = buildWorkloads(input, base, (field, message) => found.push(`${field}: ${message}`));
  return { out, found };
};

describe('workloads configuration', () => {
  it('resolves a relative cwd against the config file folder and splits a string command', () => {
    const base = mkdtempSync(join(tmpdir(), 'wl-'));
    const { out, found } = problems([{ image: 'contoso/api*', command: 'node server.js', cwd: '.', env: { A: 1 } }], base);
    expect(found).toEqual([]);
    expect(out).toEqual([{ image: 'contoso/api*', command: ['node', 'server.js'], cwd: base, env: { A: '1' } }]);
  });

  it('names the field of a missing command, a missing directory and a bad env name', () => {
    const { out, found } = problems([{ image: 'a' }, { image: 'b', command: ['x'], cwd: './nope' }, { image: 'c', command: ['x'], env: { '1BAD': 'v' } }]);
    expect(out).toEqual([]);
    expect(found).toEqual([
      'workloads[0].command: Required value: the command to run, e.g. ["node", "server.js"]',
      expect.stringMatching(/^workloads\[1\]\.cwd: Invalid value: "\.\/nope": no such directory/),
      expect.stringMatching(/^workloads\[2\]\.env\.1BAD: Invalid value/),
    ]);
  });

  it('fails buildConfig with every problem, naming the file', () => {
    expect(() => buildConfig({ workloads: [{ command: [] }] }, 'aks-emu.yaml')).toThrow(
      /aks-emu.yaml: workloads\[0\]\.image: Required value[\s\S]*aks-emu.yaml: workloads\[0\]\.command: Invalid value/,
    );
  });

  it('reads --workload IMAGE=COMMAND and refuses one without =', () => {
    expect(parseWorkloadFlag('contoso/api*=node server.js')).toEqual({ image: 'contoso/api*', command: 'node server.js' });
    expect(parseWorkloadFlag('node server.js')).toBeUndefined();
  });

  it('matches image globs on the whole reference or without the registry host', () => {
    expect(imageMatches('contoso/api*', 'contoso/api:v1')).toBe(true);
    expect(imageMatches('contoso/api*', 'myacr.azurecr.io/contoso/api:v1')).toBe(true);
    expect(imageMatches('contoso/api*', 'contoso/web:v1')).toBe(false);
    expect(imageMatches('api?', 'api1')).toBe(true);
    expect(imageMatches('a.b', 'axb')).toBe(false);
  });
});
