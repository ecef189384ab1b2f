/**
 * `node --import tsx perf/container-lb.ts`: the container runtime's L4 path against haproxy
 * in a container on the same networks, in one run.
 *
 * It starts the compose deployment (compose.yaml, the image AKS_EMU_IMAGE or aks-emu:test,
 * perf/manifests: one echo pod behind a LoadBalancer Service), then two throwaway containers
 * of the same image: `client` on `public` and `haproxy` on `public` and `vnet`. haproxy
 * (the host's binary, `mode tcp`, `nbthread 1`, round robin over the three nodes' NodePort:
 * what `lb` does) and autocannon (the host's node and node_modules, perf/container-load.ts,
 * with the harness's honest reconnects) run in those containers' network namespaces through
 * nsenter, so both rows take the same hops:
 *
 *   lb:      client ─► lb container (frontend IP:80, aks-emu) ─► node:NodePort ─► echo pod
 *   haproxy: client ─► haproxy container (its public IP:80)    ─► node:NodePort ─► echo pod
 *
 * Per mode (keep-alive connections; churn: `Connection: close`, a new connection per
 * request; 1 MiB: the echo pod's `?size=1048576` body over keep-alive), rows run interleaved
 * (lb, haproxy, lb, haproxy, ...), and the report gives each row's median req/s and p99 and
 * the ratio lb / haproxy, with the load average at the start. Everything it creates is
 * removed at the end (also on failure). The lb's and the nodes' modes are fixed when compose
 * starts them, so kernel and user space are two runs, each against haproxy in its own run.
 *
 * Flags: --rounds N (3), --duration S (5), --connections N (16), --modes
 * keepalive,churn,body (default all), --proxy-mode nftables|userspace (the nodes'
 * kube-proxy), --lb-mode nftables|userspace (the lb's frontends; both default userspace).
 * Needs root (nsenter),
 * Docker with Compose, haproxy on the host, and the image built (the container tests build it).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './report/hooks-ab.js';
import { addressOn, ComposeProject, docker, FORWARDING_MODES, loadBalancer, pidOf, REPO, run, until } from './compose-project.js';

const LOAD = join(REPO, 'perf/container-load.ts');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    'proxy-mode': { type: 'string', default: 'userspace' },
    'lb-mode': { type: 'string', default: 'userspace' },
    modes: { type: 'string', default: 'keepalive,churn,body' },
  },
});
/** As perf/options.ts's modes: the path asked for and whether each request gets its own connection. */
const MODES = {
  keepalive: { title: 'keep-alive', path: '/', churn: false },
  churn: { title: 'churn (Connection: close, a new connection per request)', path: '/', churn: true },
  body: { title: '1 MiB response body (keep-alive)', path: `/?size=${1 << 20}`, churn: false },
} as const;
type ModeId = keyof typeof MODES;
const modeIds = values.modes.split(',').filter((m) => m !== '') as ModeId[];
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const connections = Number(values.connections);
const proxyMode = values['proxy-mode'];
const lbMode = values['lb-mode'];
if (
  !(rounds >= 1 && duration >= 1 && connections >= 1) ||
  !FORWARDING_MODES.includes(proxyMode) ||
  !FORWARDING_MODES.includes(lbMode) ||
  modeIds.length === 0 ||
  !modeIds.every((m) => m in MODES)
) {
  console.error(
    'usage: perf/container-lb.ts [--rounds N] [--duration S] [--connections N] [--modes keepalive,churn,body] [--proxy-mode nftables|userspace] [--lb-mode nftables|userspace]',
  );
  process.exit(2);
}

const project = new ComposeProject({ prefix: 'aks-emu-perf', manifests: './perf/manifests', proxyMode, lbMode });

interface Result {
  readonly reqs: number;
  readonly p99: number;
  readonly errors: number;
}

/** One round in the client container's network namespace (the host's node; perf/container-load.ts: autocannon with honest reconnects). */
async function load(clientPid: string, url: string, churn: boolean): Promise<Result> {
  const args = ['-t', clientPid, '-n', process.execPath, '--import', 'tsx', LOAD, url, String(connections), String(duration), churn ? 'churn' : 'keepalive'];
  const { stdout } = await run('nsenter', args, { cwd: REPO, timeout: (duration + 60) * 1000, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Result;
}

async function main(): Promise<void> {
  const load1 = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const client = `${project.name}-client`;
  const haproxyBox = `${project.name}-haproxy`;
  const dir = mkdtempSync(join(tmpdir(), 'aks-emu-perf-container-'));
  let haproxy: ReturnType<typeof spawn> | undefined;
  try {
    await project.compose(['up', '-d']);
    const service = await loadBalancer(await project.admin(), 'default', 'echo-lb');
    await project.shell(client, 'public');
    await project.shell(haproxyBox, 'public');
    await docker(['network', 'connect', project.network('vnet'), haproxyBox]);
    const [clientPid, haproxyPid, haproxyIP] = [await pidOf(client), await pidOf(haproxyBox), await addressOn(haproxyBox, project.network('public'))];
    const nodes = ['10.224.0.4', '10.224.0.5', '10.224.0.6'];
    const config = [
      'global',
      '    nbthread 1',
      '    maxconn 8192',
      'defaults',
      '    mode tcp',
      '    timeout connect 5s',
      '    timeout client 240s',
      '    timeout server 240s',
      'frontend perf',
      `    bind ${haproxyIP}:80`,
      '    default_backend nodes',
      'backend nodes',
      '    balance roundrobin',
      ...nodes.map((n, i) => `    server node-${i} ${n}:${service.nodePort}`),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    haproxy = spawn('nsenter', ['-t', haproxyPid, '-n', 'haproxy', '-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    const targets = { lb: `http://${service.ip}/`, haproxy: `http://${haproxyIP}/` } as const;
    const probe = async (url: string) => (await run('nsenter', ['-t', clientPid, '-n', 'curl', '-sf', '-m', '2', url])).stdout;
    for (const [row, url] of Object.entries(targets)) await until(`${row} answering`, async () => ((await probe(url)).includes('echo') ? true : undefined));

    const lines = [
      `container runtime L4: lb vs haproxy in a container (lb ${lbMode}, kube-proxy ${proxyMode}; ${rounds} rounds x ${duration}s, ${connections} connections; load average ${load1})`,
    ];
    for (const id of modeIds) {
      const mode = MODES[id];
      const results: Record<keyof typeof targets, Result[]> = { lb: [], haproxy: [] };
      for (let round = 0; round < rounds; round++) {
        for (const row of Object.keys(targets) as (keyof typeof targets)[])
          results[row].push(await load(clientPid, `${targets[row]}${mode.path.slice(1)}`, mode.churn));
      }
      lines.push('', `${mode.title}:`, '| row | req/s (median) | req/s per round | p99 ms (median) | errors |', '|---|---|---|---|---|');
      for (const row of Object.keys(targets) as (keyof typeof targets)[]) {
        const r = results[row];
        lines.push(
          `| ${row} | ${median(r.map((x) => x.reqs)).toFixed(0)} | ${r.map((x) => x.reqs.toFixed(0)).join(', ')} | ${median(r.map((x) => x.p99))} | ${r.reduce((a, x) => a + x.errors, 0)} |`,
        );
      }
      const ratios = results.lb.map((x, i) => x.reqs / results.haproxy[i]!.reqs);
      lines.push(`lb / haproxy: ${median(ratios).toFixed(2)}x (per round: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    }
    lines.push(
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(lines.join('\n'));
  } finally {
    haproxy?.kill();
    await docker(['rm', '-f', client, haproxyBox]).catch(() => undefined);
    await project.down();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
