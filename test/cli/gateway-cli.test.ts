/**
 * The Gateway API through the command line: validate, `up`'s curl hints, `get gateway`,
 * `get httproute` and `explain route` against a running emulator (address block 28).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressBlock } from '../helpers/addresses.js';

const BIN = new URL('../../bin/aks-emu.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/gateway-api/', import.meta.url).pathname;
const ADMIN = '127.240.200.2:17071';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'aks-emu-gateway-cli-'));
const configFile = join(dir, 'aks-emu.yaml');
const addresses = addressBlock(28);
writeFileSync(
  configFile,
  `addresses:\n${Object.entries(addresses)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')}\nseed: 3\ntimeScale: 0.05\nadmin: ${ADMIN}\ningress: { enabled: false }\n`,
);
const bad = join(dir, 'bad.yaml');
writeFileSync(
  bad,
  `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: "no-slash" } }]
      filters:
        - { type: RequestRedirect, requestRedirect: { hostname: a.example } }
        - { type: URLRewrite, urlRewrite: { hostname: b.example } }
`,
);

describe('validate', () => {
  it('counts the Gateway API objects of a valid set', async () => {
    const { code, stdout } = await run(['validate', '-f', EXAMPLE]);
    expect(code).toBe(0);
    expect(stdout).toContain('2 Gateways, 1 HTTPRoute');
  });

  it('reports what the CRDs reject, naming file, document and field, and exits 1', async () => {
    const { code, stderr } = await run(['validate', '-f', bad]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `${bad} (document 1): The HTTPRoute "r" is invalid: spec.rules[0].matches[0].path: Invalid value: "no-slash": value must be an absolute path and start with '/'`,
    );
    expect(stderr).toContain('May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
  });
});

describe('a running emulator', () => {
  let child: ChildProcess | undefined;
  let output = '';
  beforeAll(async () => {
    child = spawn(process.execPath, [BIN, 'up', '-f', EXAMPLE, '--config', configFile]);
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c) => {
        output += c;
        if (output.includes('Press Ctrl+C to stop.')) resolve();
      });
      child!.stderr!.on('data', (c) => (output += c));
      child!.on('close', (code) => reject(new Error(`aks-emu up exited with ${code}:\n${output}`)));
    });
  }, 60_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('prints a curl per accepted HTTPRoute through its Gateway, not the status port', () => {
    expect(output).toMatch(
      /try: +curl -H 'Host: httpbin\.example\.com' http:\/\/127\.243\.0\.\d+\/get +\(HTTPRoute httpbin\/httpbin via Gateway httpbin\/httpbin-gateway\)/,
    );
    expect(output).not.toContain(':15021/');
  });

  it('get gateway -o wide shows class, address, Programmed and attached routes', async () => {
    const { code, stdout } = await run(['get', 'gateway', '-n', 'httpbin', '-o', 'wide', '--server', ADMIN]);
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/^NAME +CLASS +ADDRESS +PROGRAMMED +AGE +LISTENERS\(ATTACHED\)$/);
    expect(stdout).toMatch(/httpbin-gateway +approuting-istio +127\.243\.0\.\d+ +True .* http\(1\)/);
    expect(stdout).toMatch(/httpbin-internal +approuting-istio +127\.240\.0\.\d+ +True/);
  });

  it('get httproute -A -o wide shows hostnames and parents', async () => {
    const { stdout } = await run(['get', 'httproute', '-A', '-o', 'wide', '--server', ADMIN]);
    expect(stdout).toMatch(/httpbin +httpbin +\["httpbin.example.com"\] .* httpbin\/httpbin-gateway:Accepted,httpbin\/httpbin-internal:Accepted/);
  });

  it('explain route names the rule, the backend and its endpoints', async () => {
    const { code, stdout } = await run([
      'explain',
      'route',
      '--gateway',
      'httpbin/httpbin-gateway',
      '--host',
      'httpbin.example.com',
      '--path',
      '/get/x',
      '--server',
      ADMIN,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('MATCH HTTPRoute httpbin/httpbin rules[0].matches[0] (path PathPrefix /get)');
    expect(stdout).toMatch(/backend httpbin\/httpbin:8000 weight 1: 127\.241\.\d+\.\d+:8080 127\.241/);
  });

  it('explain route says a flag is missing, with a usage error', async () => {
    const { code, stderr } = await run(['explain', 'route', '--host', 'x', '--server', ADMIN]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('--gateway is required');
  });
});
