import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeconfigFor, kubeconfigPath, writeKubeconfig } from '../../src/cli/kubeconfig.js';

describe('kubeconfig', () => {
  it('merges the aks-emu context into an existing file, keeping the other contexts, like kind', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aks-emu-kc-')), 'config');
    writeFileSync(
      path,
      'apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: "https://prod"}}]\nusers: [{name: me, user: {token: t}}]\ncontexts: [{name: prod, context: {cluster: prod, user: me}}]\ncurrent-context: prod\n',
    );
    await writeKubeconfig(path, kubeconfigFor('http://127.0.0.1:7070', 'old'));
    await writeKubeconfig(path, kubeconfigFor('http://127.0.0.1:7071', 'new'));
    const merged = parse(readFileSync(path, 'utf8'));
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'aks-emu']);
    expect(merged.clusters.find((c: { name: string }) => c.name === 'aks-emu').cluster.server).toBe('http://127.0.0.1:7071');
    expect(merged.users.find((u: { name: string }) => u.name === 'aks-emu').user.token).toBe('new');
    expect(merged['current-context']).toBe('aks-emu');
  });

  it('refuses to touch a file it cannot parse', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aks-emu-kc-')), 'config');
    writeFileSync(path, 'clusters: [unclosed');
    await expect(writeKubeconfig(path, kubeconfigFor('http://x', 't'))).rejects.toThrow('not touching it');
    expect(readFileSync(path, 'utf8')).toBe('clusters: [unclosed');
  });

  it('picks --kubeconfig, then the first $KUBECONFIG entry, then ~/.kube/config', () => {
    expect(kubeconfigPath('/a', { KUBECONFIG: '/b:/c' })).toBe('/a');
    expect(kubeconfigPath(undefined, { KUBECONFIG: '/b:/c' })).toBe('/b');
    expect(kubeconfigPath(undefined, {})).toMatch(/\.kube\/config$/);
  });
});
