/**
 * `node --import tsx perf/container-idle.ts`: many idle connections through the LB of the
 * container runtime, where the LB and kube-proxy forward in the kernel (nftables DNAT, as
 * Azure's data plane and kube-proxy do), then released.
 *
 * Why here and not in `npm run perf`'s embedded scale row: in the embedded runtime every
 * connection through the LB is a descriptor in the aks-emu process (the hop collapse hands
 * the client's socket to the echo pod), and one process may hold at most its open-file
 * limit (20,000 on the machine this was written on, and not raisable without
 * CAP_SYS_RESOURCE). With kernel forwarding the lb container's aks-emu holds none: the
 * connections are conntrack entries, and the only descriptors are the echo pods' ends in
 * the node containers and the clients'.
 *
 * It starts the compose deployment (compose.yaml, the image AKS_EMU_IMAGE or aks-emu:test)
 * with a Deployment of --pods echo pods behind one LoadBalancer Service, then --clients
 * throwaway containers on `public`; in each, a client process (perf/idle-client.ts, the
 * host's node through nsenter -n) opens its share of the connections, one request each,
 * and holds them. It reports, per aks-emu process (control, lb, node-N), RSS and open
 * descriptors before, while held and after the release, the ESTABLISHED conntrack
 * entries in the lb's and the nodes' network namespaces, and a goal line. Everything it
 * creates is removed at the end (also on failure).
 *
 * Flags: --connections N (50000), --clients N (3), --pods N (3), --lb-mode and
 * --proxy-mode nftables|userspace (both nftables). Needs root (nsenter), Docker with
 * Compose and the image built (the container tests build it).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ComposeProject, docker, FORWARDING_MODES, loadBalancer, pidOf, REPO, run, until } from './compose-project.js';
import type { HoldResult } from './idle-connections.js';
import { fileLimit, memory, openFiles } from './proc-stats.js';

const MIB = 1024 * 1024;
/** The issue's goal: this many idle connections through the LB in less than this much memory. */
const GOAL_CONNECTIONS = 50_000;
const GOAL_BYTES = 300 * MIB;
const FD_MARGIN = 500;
/** Descriptors or conntrack entries per process that other traffic may account for after the release. */
const SETTLE_NOISE = 16;

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: String(GOAL_CONNECTIONS) },
    clients: { type: 'string', default: '3' },
    pods: { type: 'string', default: '3' },
    'proxy-mode': { type: 'string', default: 'nftables' },
    'lb-mode': { type: 'string', default: 'nftables' },
  },
});
const connections = Number(values.connections);
const clients = Number(values.clients);
const pods = Number(values.pods);
const proxyMode = values['proxy-mode'];
const lbMode = values['lb-mode'];
if (
  !(Number.isInteger(connections) && connections >= 1) ||
  !(Number.isInteger(clients) && clients >= 1 && clients <= 16) ||
  !(Number.isInteger(pods) && pods >= 1 && pods <= 30) ||
  !FORWARDING_MODES.includes(proxyMode) ||
  !FORWARDING_MODES.includes(lbMode)
) {
  console.error(
    'usage: perf/container-idle.ts [--connections N] [--clients 1-16] [--pods 1-30] [--proxy-mode nftables|userspace] [--lb-mode nftables|userspace]',
  );
  process.exit(2);
}

const manifests = mkdtempSync(join(tmpdir(), 'aks-emu-idle-manifests-'));
writeFileSync(
  join(manifests, 'echo.yaml'),
  `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: ${pods}
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
        - name: echo
          image: registry.k8s.io/ingressconformance/echoserver:v0.0.1
          ports:
            - name: http
              containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: echo-lb
spec:
  type: LoadBalancer
  selector:
    app: echo
  ports:
    - name: http
      port: 80
      targetPort: http
`,
);
const project = new ComposeProject({ prefix: 'aks-emu-idle', manifests, proxyMode, lbMode });

/** A role container's aks-emu process: the child of its init (compose runs the roles with init: true). */
interface Role {
  readonly name: string;
  readonly pid: number;
  /** The container's init, whose network namespace nsenter enters. */
  readonly initPid: number;
}

async function roles(): Promise<Role[]> {
  const names = (await docker(['ps', '--filter', `label=com.docker.compose.project=${project.name}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  const found: Role[] = [];
  for (const container of names.sort()) {
    const role = /(control|lb|node-?\d+)/.exec(container.replace(project.name, ''))?.[1];
    if (role === undefined) continue;
    const initPid = Number(await pidOf(container));
    const children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    found.push({ name: role, initPid, pid: children[0] ?? initPid });
  }
  return found;
}

interface Sample {
  readonly rssBytes: number;
  readonly fds: number;
  /** ESTABLISHED TCP entries in the role's network namespace's conntrack table. */
  readonly established: number;
}

async function sample(role: Role): Promise<Sample> {
  const table = (await run('nsenter', ['-t', String(role.initPid), '-n', 'cat', '/proc/net/nf_conntrack'], { maxBuffer: 256 << 20 })).stdout;
  let established = 0;
  for (let at = table.indexOf(' ESTABLISHED '); at >= 0; at = table.indexOf(' ESTABLISHED ', at + 1)) established++;
  return { rssBytes: (await memory(role.pid)).rssBytes, fds: await openFiles(role.pid), established };
}

async function sampleAll(all: readonly Role[]): Promise<Map<string, Sample>> {
  return new Map(await Promise.all(all.map(async (r) => [r.name, await sample(r)] as const)));
}

/** Resolves with the next stdout line of a client that parses as JSON. */
function nextLine<T>(child: ChildProcessWithoutNullStreams, lines: AsyncIterator<string>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client ${child.pid} gave no answer within ${timeoutMs} ms`)), timeoutMs);
    lines.next().then(
      (r) => {
        clearTimeout(timer);
        if (r.done) reject(new Error(`client ${child.pid} ended early`));
        else resolve(JSON.parse(r.value) as T);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

const mib = (bytes: number): string => (bytes / MIB).toFixed(1);
const signedMib = (bytes: number): string => `${bytes < 0 ? '−' : '+'}${mib(Math.abs(bytes))}`;

async function main(): Promise<void> {
  const load1 = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const clientNames = Array.from({ length: clients }, (_, i) => `${project.name}-client-${i}`);
  const spawned: ChildProcessWithoutNullStreams[] = [];
  try {
    await project.compose(['up', '-d']);
    const frontend = (await loadBalancer(await project.admin(), 'default', 'echo-lb')).ip;
    const all = await roles();
    const lb = all.find((r) => r.name === 'lb');
    if (lb === undefined) throw new Error(`no lb container in project ${project.name}`);
    // Each client holds its share: within its own open-file limit and one source address's ephemeral ports.
    const share = Math.ceil(connections / clients);
    const limit = (await fileLimit(process.pid)) ?? Infinity;
    if (share > Math.min(limit - FD_MARGIN, 28_000))
      throw new Error(`${share} connections per client exceed one process's open-file limit (${limit}) or one source address's ports: use more --clients`);
    const lbLimit = (await fileLimit(lb.pid)) ?? Infinity;
    if (lbMode === 'userspace' && 2 * connections > lbLimit - FD_MARGIN)
      throw new Error(`the user-space lb holds two descriptors per connection: ${2 * connections} exceed its open-file limit (${lbLimit})`);

    for (const name of clientNames) await project.shell(name, 'public');
    await until('the frontend answering', async () =>
      (await run('nsenter', ['-t', String(await pidOf(clientNames[0]!)), '-n', 'curl', '-sf', '-m', '2', `http://${frontend}/`])).stdout.length > 0
        ? true
        : undefined,
    );

    const before = await sampleAll(all);
    const started = Date.now();
    const readers: AsyncIterator<string>[] = [];
    for (const [i, name] of clientNames.entries()) {
      const count = Math.min(share, connections - i * share);
      const child = spawn(
        'nsenter',
        ['-t', String(await pidOf(name)), '-n', process.execPath, '--import', 'tsx', join(REPO, 'perf/idle-client.ts'), frontend, '80', String(count)],
        {
          cwd: REPO,
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      child.stderr.on('data', (d: Buffer) => process.stderr.write(`client ${i}: ${d.toString()}`));
      spawned.push(child);
      readers.push(createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    }
    const opened = await Promise.all(spawned.map((c, i) => nextLine<HoldResult>(c, readers[i]!, 600_000)));
    const openMs = Date.now() - started;
    const held = await sampleAll(all);
    for (const c of spawned) c.stdin.write('release\n');
    const released = await Promise.all(spawned.map((c, i) => nextLine<{ released: number }>(c, readers[i]!, 120_000)));
    // The pods' ends close when the FINs arrive; wait for the descriptors, not a fixed time.
    await until(
      'the descriptors back to their baseline',
      async () => {
        for (const r of all) if ((await openFiles(r.pid)) > before.get(r.name)!.fds + SETTLE_NOISE) return undefined;
        return true;
      },
      60_000,
    ).catch((err: Error) => console.error(err.message));
    const after = await sampleAll(all);

    const total = opened.reduce((a, r) => a + r.opened, 0);
    const failed = opened.reduce((a, r) => a + r.failed, 0);
    const extra = (s: Map<string, Sample>, of: readonly Role[]) => of.reduce((a, r) => a + s.get(r.name)!.rssBytes - before.get(r.name)!.rssBytes, 0);
    const lines = [
      `container runtime: ${total.toLocaleString('en-US')} idle connections through the LB (lb ${lbMode}, kube-proxy ${proxyMode}; ${pods} echo pods, ${clients} client containers; opened in ${(openMs / 1000).toFixed(1)} s, ${failed} failed${opened.find((r) => r.firstError)?.firstError ? `, first error ${opened.find((r) => r.firstError)!.firstError}` : ''}; load average ${load1})`,
      '',
      '| aks-emu process | RSS MiB before | held | after | open fds before | held | after | ESTABLISHED conntrack before | held | after |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...all.map((r) => {
        const [b, h, a] = [before.get(r.name)!, held.get(r.name)!, after.get(r.name)!];
        return `| ${r.name} | ${mib(b.rssBytes)} | ${mib(h.rssBytes)} | ${mib(a.rssBytes)} | ${b.fds} | ${h.fds} | ${a.fds} | ${b.established} | ${h.established} | ${a.established} |`;
      }),
      '',
      `Released by the clients: ${released.reduce((a, r) => a + r.released, 0).toLocaleString('en-US')}.`,
    ];
    // Other traffic goes on meanwhile (probes, the nodes' watch of control): a few descriptors
    // and conntrack entries either way are not the held connections.
    const left = (pick: (s: Sample) => number) => all.reduce((a, r) => a + Math.max(0, pick(after.get(r.name)!) - pick(before.get(r.name)!) - SETTLE_NOISE), 0);
    const [leftFds, leftConntrack] = [left((s) => s.fds), left((s) => s.established)];
    const lbPath = all.filter((r) => r.name === 'lb' || r.name === 'control');
    const lbExtra = extra(held, lbPath);
    const podsExtra = extra(
      held,
      all.filter((r) => r.name.startsWith('node')),
    );
    const pass = total >= GOAL_CONNECTIONS && failed === 0 && lbExtra < GOAL_BYTES && leftFds === 0 && leftConntrack === 0;
    lines.push(
      `Goal ${pass ? 'PASS' : 'FAIL'}: ${total.toLocaleString('en-US')} idle connections through the LB (goal ${GOAL_CONNECTIONS.toLocaleString('en-US')}), ${failed} failed: the LB path's aks-emu processes (lb, control; kube-proxy and the LB forward in the kernel) ${signedMib(lbExtra)} MiB while held, every aks-emu process together (the echo pods' ends included) ${signedMib(lbExtra + podsExtra)} MiB (goal < ${mib(GOAL_BYTES)} MiB); after the release ${leftFds} descriptors and ${leftConntrack} ESTABLISHED conntrack entries left beyond ${SETTLE_NOISE} per process (goal 0).`,
      `The backend's side: the echo pods (built in, run by the node processes) hold one socket per connection, ${signedMib(podsExtra)} MiB while held (${(podsExtra / Math.max(1, total) / 1024).toFixed(1)} KiB per connection, without a forced GC); a pod of your own would hold its own ends the same way.`,
    );
    console.log(lines.join('\n'));
    if (!pass) process.exitCode = 1;
  } finally {
    for (const c of spawned) c.kill();
    await docker(['rm', '-f', ...clientNames]).catch(() => undefined);
    await project.down();
    rmSync(manifests, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
