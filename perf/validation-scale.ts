/**
 * `npm run perf:validation`: how `aks-emu validate` scales with the number of Services.
 *
 * For each size (default 10k, 50k, 100k) a fresh child process writes one manifest file
 * of that many Services (ClusterIP, NodePort and LoadBalancer in turn), then loads it
 * (read, size and encoding checks, YAML parse, field validation) and checks it
 * (ClusterIPs, NodePorts, LB frontends and annotations, the ingress controller's objects):
 * what validate does, minus printing. Past about 65k Services the ClusterIP range
 * (127.10.0.0/16) is full, and the NodePort range (2,768 ports) is full from the start,
 * so every further Service gets a "range is full" error: the case that used to grow
 * quadratically. Linear scaling shows as a per-Service time that stays flat, i.e. a
 * ratio to the smallest size close to the ratio of the sizes.
 *
 *   npm run perf:validation                 # 10000 50000 100000
 *   npm run perf:validation -- 1000 20000   # other sizes
 *   npm run perf:validation -- --ingress 2000 8000   # plus an Ingress path per Service, all on one host
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Measure {
  readonly services: number;
  readonly bytes: number;
  readonly loadMs: number;
  readonly checkMs: number;
  readonly errors: number;
  readonly peakRssMiB: number;
}

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;

/** With `ingress`, each Service also gets an Ingress with one path on one shared host (the case that was quadratic in the ingress compiler). */
function manifestText(services: number, ingress: boolean): string {
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\nspec:\n  type: ${TYPES[i % 3]}\n  selector: {app: app-${i % 50}}\n  ports:\n  - port: 80\n    targetPort: 8080\n`,
    );
    if (ingress) {
      docs.push(
        `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ing-${i}\nspec:\n  ingressClassName: nginx\n  rules:\n  - host: shop.example.com\n    http:\n      paths:\n` +
          `      - path: /svc-${i}\n        pathType: Prefix\n        backend: {service: {name: svc-${i}, port: {number: 80}}}\n`,
      );
    }
  }
  return docs.join('---\n');
}

/** In the child: one size, measured, printed as JSON on stdout. */
async function measureOne(services: number, ingress: boolean): Promise<Measure> {
  const { defaultConfig } = await import('../src/config/defaults.js');
  const { ManifestInvalidError } = await import('../src/errors/index.js');
  const { checkManifests, loadManifestSet } = await import('../src/runtime/check.js');
  const { seededRandom } = await import('../src/runtime/embedded-cluster.js');
  const dir = mkdtempSync(join(tmpdir(), 'aks-emu-perf-validation-'));
  try {
    const file = join(dir, 'services.yaml');
    const text = manifestText(services, ingress);
    writeFileSync(file, text);
    const config = { ...defaultConfig(), maxManifestFileBytes: 256 * 1024 * 1024, maxManifestTotalBytes: 256 * 1024 * 1024 };
    const t0 = performance.now();
    const { manifests } = await loadManifestSet([file], config).catch((err: unknown) => {
      if (err instanceof ManifestInvalidError) throw new Error(`unexpected field errors: ${err.message.slice(0, 500)}`);
      throw err;
    });
    const t1 = performance.now();
    const { errors } = checkManifests(manifests, config, seededRandom(1));
    const t2 = performance.now();
    return {
      services,
      bytes: Buffer.byteLength(text),
      loadMs: t1 - t0,
      checkMs: t2 - t1,
      errors: errors.length,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(services: number, ingress: boolean): Measure {
  const self = fileURLToPath(import.meta.url);
  const args = ['--import', 'tsx', self, '--child', String(services), ...(ingress ? ['--ingress'] : [])];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`child for ${services} Services failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as Measure;
}

const num = (n: number, digits = 0): string => n.toFixed(digits);

function report(rows: readonly Measure[]): string {
  const base = rows[0]!;
  const baseTotal = base.loadMs + base.checkMs;
  const header = ['Services', 'MiB in', 'load ms', 'check ms', 'total ms', 'µs/Service', '× size', '× time', 'range-full errors', 'peak RSS MiB'];
  const body = rows.map((r) => {
    const total = r.loadMs + r.checkMs;
    return [
      String(r.services),
      num(r.bytes / 1024 ** 2, 1),
      num(r.loadMs),
      num(r.checkMs),
      num(total),
      num((total * 1000) / r.services, 1),
      num(r.services / base.services, 1),
      num(total / baseTotal, 1),
      String(r.errors),
      num(r.peakRssMiB),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [
    `validation time by number of Services (node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    '',
    '× size and × time are ratios to the first row: equal ratios mean linear time.',
  ].join('\n');
}

const ingress = process.argv.includes('--ingress');
if (process.argv[2] === '--child') {
  process.stdout.write(JSON.stringify(await measureOne(Number(process.argv[3]), ingress)));
} else {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const rows: Measure[] = [];
  for (const n of sizes.length > 0 ? sizes : [10_000, 50_000, 100_000]) {
    process.stderr.write(`measuring ${n} Services${ingress ? ' and Ingresses' : ''}...\n`);
    rows.push(runChild(n, ingress));
  }
  if (ingress) process.stdout.write('each Service with an Ingress path on one shared host\n');
  process.stdout.write(`${report(rows)}\n`);
}
