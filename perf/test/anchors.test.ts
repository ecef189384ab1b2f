import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../anchors.js';

const VALUES = { DIR: '/tmp/x', LISTEN_HOST: '127.0.0.1', LISTEN_PORT: 4000, BACKEND_HOST: '127.65.0.2', BACKEND_PORT: 8080, HOST_HEADER: 'echo.perf.local' };

describe('anchor configs', () => {
  it('fills every placeholder of both templates', async () => {
    for (const file of ['haproxy.cfg', 'nginx.conf']) {
      const text = renderTemplate(await readFile(new URL(`../anchors/${file}`, import.meta.url), 'utf8'), VALUES);
      expect(text).not.toContain('{{');
      expect(text).toContain('127.65.0.2:8080');
      expect(text).toContain('127.0.0.1:4000');
    }
  });

  it('refuses a template value it was not given', () => {
    expect(() => renderTemplate('listen {{PORT}};', {})).toThrow(/PORT missing/);
  });

  it('keeps both anchors to one thread or process, as aks-emu is', async () => {
    expect(await readFile(new URL('../anchors/haproxy.cfg', import.meta.url), 'utf8')).toMatch(/^\s*nbthread 1$/m);
    const nginx = await readFile(new URL('../anchors/nginx.conf', import.meta.url), 'utf8');
    expect(nginx).toMatch(/^worker_processes 1;$/m);
    expect(nginx).toMatch(/^master_process off;$/m);
    expect(nginx).toMatch(/^\s*keepalive 320;$/m);
  });
});
