import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AksEmuError } from '../../src/errors/index.js';
import { decodeManifest } from '../../src/manifests/encoding.js';
import { loadManifests, parseManifests } from '../../src/manifests/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-emu-encoding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVICE = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n';

function file(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const problem = (bytes: number[] | string) => {
  const decoded = decodeManifest(typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes));
  return 'problem' in decoded ? decoded.problem : undefined;
};

describe('manifest encoding', () => {
  it("reports bytes that are not UTF-8 with go-yaml's words and their position", () => {
    const a = [...Buffer.from('a: b\nc: d')];
    expect(problem([...a, 0xff])).toEqual({ problem: 'invalid leading UTF-8 octet', line: 2, col: 5 });
    expect(problem([...a, 0xc3])).toEqual({ problem: 'incomplete UTF-8 octet sequence', line: 2, col: 5 });
    expect(problem([...a, 0xc3, 0x41])).toEqual({ problem: 'invalid trailing UTF-8 octet', line: 2, col: 6 });
    expect(problem([...a, 0xc0, 0x80])).toEqual({ problem: 'invalid length of a UTF-8 sequence', line: 2, col: 5 });
    expect(problem([...a, 0xed, 0xa0, 0x80])).toEqual({ problem: 'invalid Unicode character', line: 2, col: 5 });
    expect(problem([...Buffer.from('é: '), 0x80])).toEqual({ problem: 'invalid leading UTF-8 octet', line: 1, col: 4 });
  });

  it('refuses control characters as go-yaml does, and accepts tabs, NEL and the printable rest', () => {
    expect(problem('a: "x\u0000y"')).toEqual({ problem: 'control characters are not allowed', line: 1, col: 6 });
    expect(problem('a: b\u001b[31m')).toMatchObject({ problem: 'control characters are not allowed' });
    expect(problem('a: \u007f')).toMatchObject({ problem: 'control characters are not allowed' });
    expect(problem('a: \uffff')).toMatchObject({ problem: 'control characters are not allowed' });
    expect(problem('\ufeffa:\tb\r\nc: \u0085 \u00a0 é 😀 \ufffd')).toBeUndefined();
  });

  it('fails the whole load when one file is not UTF-8, with every file problem in one message', async () => {
    const good = file('good.yaml', SERVICE);
    const bad = file('bad.yaml', Buffer.concat([Buffer.from(SERVICE.replace('web', 'api')), Buffer.from([0x20, 0x23, 0xfe, 0x0a])]));
    const broken = file('broken.yaml', 'apiVersion: v1\nkind: [\n');
    let err: unknown;
    try {
      await loadManifests([good, bad, broken]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AksEmuError);
    expect((err as AksEmuError).code).toBe('AKS_EMU_MANIFEST_PARSE');
    const lines = (err as AksEmuError).message.split('\n');
    expect(lines[0]).toBe(`${bad}:9:3: error converting YAML to JSON: yaml: invalid leading UTF-8 octet`);
    expect(lines.slice(1).some((l) => l.startsWith(`${broken}:`))).toBe(true);
  });

  it('refuses lone surrogates and control characters in in-memory text', () => {
    expect(() => parseManifests([{ file: '<inline>', text: `${SERVICE}  annotations: {a: "\ud800"}\n` }])).toThrow(
      '<inline>:9:21: error converting YAML to JSON: yaml: invalid Unicode character',
    );
    expect(() => parseManifests([{ file: '<inline>', text: `${SERVICE}# \u0007\n` }])).toThrow(
      '<inline>:9:3: error converting YAML to JSON: yaml: control characters are not allowed',
    );
  });
});
