import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** kubectl on PATH; in CI (CI=true) its absence fails the suite instead of skipping it. */
export function kubectlAvailable(): boolean {
  const found = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('kubectl is required in CI (CI=true) but is not on PATH');
  if (!found) console.warn('SKIPPED: kubectl is not on PATH; the kubectl integration tests did not run');
  return found;
}

/** A kubeconfig in a temporary folder (never ~/.kube), for one cluster. */
export function tempKubeconfig(server: string, token: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-emu-kubectl-'));
  const path = join(dir, 'config');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: aks-emu, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: aks-emu, user: { token: "${token}" } }]
contexts: [{ name: aks-emu, context: { cluster: aks-emu, user: aks-emu, namespace: default } }]
current-context: aks-emu
`,
  );
  return path;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(kubeconfig, '..', 'cache'), ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/** Runs kubectl and expects it to succeed with nothing on stderr; returns stdout. */
export function kubectlOk(kubeconfig: string): (...args: string[]) => Promise<string> {
  return async (...args) => {
    const r = await kubectl(kubeconfig, args);
    expect(r.stderr, `kubectl ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
}
