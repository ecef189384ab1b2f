import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addressBlock } from '../helpers/addresses.js';

const BIN = resolve(import.meta.dirname, '../../bin/aks-emu.js');

/** What `ps` lists of these pids (zombies waiting for a reaper are not running). */
function running(pids: readonly number[]): number[] {
  if (pids.length === 0) return [];
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,stat=', '-p', pids.join(',')], { encoding: 'utf8' });
  } catch (err) {
    // ps exits 1 when none of the pids exists.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat]) => pid && stat && !stat.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('aks-emu up with process workloads', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`leaves no pod process behind when up gets ${signal}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'aks-emu-up-'));
      dirs.push(dir);
      const pidDir = join(dir, 'pids');
      writeFileSync(
        join(dir, 'app.yaml'),
        `apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: contoso/api:1, ports: [{ containerPort: 8080 }] }]
`,
      );
      const a = addressBlock(21);
      writeFileSync(join(dir, 'aks-emu.yaml'), JSON.stringify({ addresses: a, admin: '127.0.0.1:0', timeScale: 0.1 }));
      // Each replica records its pid, starts a grandchild of its own, and serves on PORT.
      writeFileSync(
        join(dir, 'app.js'),
        `const fs = require('fs');
fs.mkdirSync(${JSON.stringify(pidDir)}, { recursive: true });
const sleeper = require('child_process').spawn('sleep', ['300']);
for (const pid of [process.pid, sleeper.pid]) fs.writeFileSync(${JSON.stringify(pidDir)} + '/' + pid, '');
require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);
`,
      );
      // --workload's cwd is up's own directory.
      const up = spawn(process.execPath, [BIN, 'up', '-f', 'app.yaml', '--config', 'aks-emu.yaml', '--no-ingress', '--workload', 'contoso/api*=node app.js'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      up.stdout.on('data', (c) => (output += c));
      up.stderr.on('data', (c) => (output += c));
      const pids = () => readdirSync(pidDir).map(Number);
      try {
        await until(() => {
          try {
            return pids().length === 6;
          } catch {
            return false;
          }
        }, `six processes (output so far: ${output})`);
        expect(running(pids())).toHaveLength(6);
        up.kill(signal);
        await until(() => up.exitCode !== null || up.signalCode !== null, 'up to exit');
        await until(() => running(pids()).length === 0, 'every pod process to exit');
      } finally {
        if (up.exitCode === null && up.signalCode === null) up.kill('SIGKILL');
      }
    }, 60_000);
  }
});
