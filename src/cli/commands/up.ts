import { gatewayHints, isGatewayService } from '../gateway-hints.js';
import { startAdminServer } from '../../api/server.js';
import { controllerChart, isControllerService } from '../../cluster/ingress/index.js';
import { serviceList } from '../../api/kube-objects.js';
import { buildConfig, loadConfigFile, parseHostPort, type ConfigInput } from '../../config/load.js';
import { loadObjects } from '../../manifests/index.js';
import { KubeStore, userObjectKeys } from '../../api/kube/kube-store.js';
import { createKubeApi } from '../../api/kube/handler.js';
import { kubeconfigFor, kubeconfigPath, writeKubeconfig } from '../kubeconfig.js';
import { watchFiles } from '../watch-files.js';
import { installLastResort, listenerGuard } from '../../dataplane/l4/listener-guard.js';
import { loadManifestSet, manifestOptions } from '../../runtime/check.js';
import { parseWorkloadFlag } from '../../config/workloads.js';
import { EmbeddedCluster } from '../../runtime/embedded-cluster.js';
import { intFlag, MANIFEST_SIZE_HELP, manifestSizeFlag, namespaceFlag, parseCommand, usageError, VALIDATE_HELP, validateFlag } from '../args.js';
import { printServices } from '../printers.js';
import { probeSummary, startupProgress } from '../startup-progress.js';
import { explainAddressInUse } from '../../runtime/address-holder.js';
import { checkOtlpEndpoint } from '../../runtime/otlp-export.js';
import { AksEmuError } from '../../errors/index.js';
import type { ProbeTransition } from '../../dataplane/index.js';

export const upHelp = `Run an emulated AKS cluster in the foreground from Kubernetes manifests.

Usage: aks-emu up -f PATH [-f PATH...] [flags]

Flags:
  -f, --filename PATH   manifest file or folder (repeatable; folders are read recursively)
      --nodes N         number of nodes (default 3)
      --config FILE     cluster configuration (aks-emu.yaml)
      --admin HOST:PORT admin API address (default 127.0.0.1:7070)
      --time-scale X    multiply every emulated duration (probes, idle timeout) by X, 0 < X <= 1
      --seed N          make ClusterIP/NodePort allocation repeatable
      --no-ingress      do not start the built-in ingress-nginx controller
      --watch           re-apply the manifest files when they change (invalid changes are reported, nothing changes)
${VALIDATE_HELP}
      --kubeconfig PATH merge the kubectl context "aks-emu" into PATH (default $KUBECONFIG or ~/.kube/config)
      --no-kubeconfig   do not write a kubeconfig
      --admin-token T   require this bearer token on the admin API even on loopback (default: generated,
                        required only when --admin is not a loopback address)
      --otlp-endpoint URL  send every connection and request trace as an OpenTelemetry span (OTLP/HTTP,
                        e.g. http://127.0.0.1:4318/v1/traces); off by default
      --grace-period S  on SIGTERM or Ctrl+C, let open connections finish for S seconds
                        (default 5 x time scale) before resetting them; a second signal stops at once
${MANIFEST_SIZE_HELP}
      --workload 'IMAGE-GLOB=COMMAND ARGS'
                        run containers whose image matches as local processes (repeatable;
                        added to aks-emu.yaml's workloads:, cwd = the current directory)
  -v, --verbose         log every snapshot the data plane applies`;

export async function up(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseCommand(
    'up',
    argv,
    {
      filename: { type: 'string', short: 'f', multiple: true },
      nodes: { type: 'string' },
      config: { type: 'string' },
      admin: { type: 'string' },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      'no-ingress': { type: 'boolean' },
      watch: { type: 'boolean' },
      kubeconfig: { type: 'string' },
      'no-kubeconfig': { type: 'boolean' },
      'admin-token': { type: 'string' },
      'grace-period': { type: 'string' },
      'otlp-endpoint': { type: 'string' },
      'max-manifest-size': { type: 'string' },
      workload: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      validate: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
    },
    false,
  );
  if (values.help) {
    out(upHelp);
    return 0;
  }
  if (!values.filename?.length) throw usageError('up', 'at least one -f PATH is required (a manifest file or folder)');
  const manifestFlags = { fieldValidation: validateFlag('up', values.validate), namespace: namespaceFlag('up', values.namespace) };
  const input: ConfigInput = values.config ? await loadConfigFile(values.config) : {};
  const nodes = intFlag('up', '--nodes', values.nodes, 1, 100);
  if (nodes !== undefined) input.nodes = nodes;
  if (values.admin !== undefined) {
    if (!parseHostPort(values.admin)) throw usageError('up', `invalid value "${values.admin}" for flag --admin: expected HOST:PORT`);
    input.admin = values.admin;
  }
  if (values['time-scale'] !== undefined) {
    const scale = Number(values['time-scale']);
    if (!(scale > 0 && scale <= 1))
      throw usageError('up', `invalid value "${values['time-scale']}" for flag --time-scale: must be a number greater than 0 and at most 1`);
    input.timeScale = scale;
  }
  const seed = intFlag('up', '--seed', values.seed, 0, 2 ** 31 - 1);
  if (seed !== undefined) input.seed = seed;
  if (values['no-ingress']) input.ingress = { ...input.ingress, enabled: false };
  manifestSizeFlag('up', values['max-manifest-size'], input);
  if (values.workload?.length) {
    const flags = values.workload.map((w) => {
      const parsed = parseWorkloadFlag(w);
      if (!parsed) throw usageError('up', `invalid value "${w}" for flag --workload: expected 'IMAGE-GLOB=COMMAND ARGS', e.g. 'contoso/api*=node server.js'`);
      // A flag's cwd is where the command runs from, not the config file's folder.
      return { ...parsed, cwd: process.cwd() };
    });
    input.workloads = [...(input.workloads ?? []), ...flags];
  }
  const config = buildConfig(input, values.config ?? 'flags');
  let graceMs = DEFAULT_GRACE_MS * config.timeScale;
  if (values['grace-period'] !== undefined) {
    const seconds = Number(values['grace-period']);
    if (!(values['grace-period'].trim() !== '' && seconds >= 0 && seconds <= 3600)) {
      throw usageError('up', `invalid value "${values['grace-period']}" for flag --grace-period: must be a number of seconds from 0 to 3600`);
    }
    graceMs = seconds * 1000;
  }

  // Everything that can be wrong with the input is checked before anything listens.
  const token = values['admin-token'];
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,}$/.test(token))
    throw usageError('up', 'invalid value for flag --admin-token: use at least 16 characters of A-Z a-z 0-9 . _ ~ + / = -');
  const { manifests, notices } = await loadManifestSet(values.filename, config, manifestFlags);
  for (const n of notices) out(n);
  // The object store keeps the objects as written (the manifests above are their checked form).
  const { raw } = await loadObjects(values.filename, [], [], manifestOptions(config, manifestFlags));
  listenerGuard.setLog(out);
  const uninstall = installLastResort(() => {
    out(`fatal: an unexpected error outside any connection (logged above); exiting`);
    process.exit(EXIT_SOFTWARE);
  });
  // Pods' own output is always shown (prefixed with the pod's name); the data plane's only with -v.
  const otlpEndpoint = values['otlp-endpoint'];
  if (otlpEndpoint !== undefined) checkOtlpEndpoint(otlpEndpoint, 'aks-emu up: flag --otlp-endpoint');
  const cluster = await EmbeddedCluster.start({
    config,
    manifests,
    log: values.verbose ? out : undefined,
    podLog: out,
    ...(otlpEndpoint === undefined ? {} : { otlp: { endpoint: otlpEndpoint } }),
  }).catch(explainBindError);
  const kube = new KubeStore(cluster, out);
  kube.seed(raw);
  let admin;
  try {
    admin = await startAdminServer(cluster, config.admin.host, config.admin.port, {
      extension: createKubeApi(kube),
      log: out,
      ...(token !== undefined ? { token, requireToken: true } : {}),
    });
  } catch (err) {
    kube.close();
    await cluster.stop();
    return explainBindError(err);
  }
  for (const n of cluster.notices) out(n);
  cluster.on('notice', out);
  // Until it serves, a progress line stands for the probes' first answers; then only changes are printed.
  let started = false;
  cluster.on('probe', (t: ProbeTransition) => {
    if (started && t.from !== 'unknown') out(`probe ${t.loadBalancer}/${t.probe}: node ${t.node} is ${t.state}`);
  });
  cluster.on('error', (err: Error) => out(`error: ${err.message}`));

  const stopProgress = cluster.serving() ? undefined : startupProgress(cluster, out);
  await waitForPods(cluster, out);
  stopProgress?.();
  started = true;
  const summary = probeSummary(cluster.probeStatus());
  if (summary) out(summary);
  out(printServices(serviceList(cluster.snapshot, cluster.snapshot.services, cluster.created.get), true, false));
  out('');
  out(`admin API: ${admin.url}   (aks-emu get svc -A; aks-emu get lb)`);
  out(`dashboard: ${admin.url}/dashboard`);
  const chart = config.ingress.enabled ? controllerChart(config.ingress) : undefined;
  const accessLog = chart ? `; aks-emu logs -n ${chart.namespace} deploy/${chart.name}` : '';
  out(`observe:   ${admin.url}/metrics   (aks-emu trace -f${accessLog})`);
  if (!values['no-kubeconfig']) {
    const path = kubeconfigPath(values.kubeconfig);
    await writeKubeconfig(path, kubeconfigFor(admin.url, admin.token));
    out(`kubectl:   kubectl --context aks-emu get svc -A   (context "aks-emu" written to ${path})`);
  }
  const lbs = cluster.snapshot.services.filter((s) => s.loadBalancer?.ip);
  for (const s of lbs) {
    if (isControllerService(s, config) || isGatewayService(s)) continue;
    out(`try:       curl http://${s.loadBalancer!.ip}:${s.ports[0]!.port}/   (${s.namespace}/${s.name})`);
  }
  const controller = lbs.find((s) => isControllerService(s, config));
  const statuses = cluster.snapshot.ingress?.statuses ?? {};
  for (const ing of cluster.manifests.ingresses) {
    const key = `${ing.metadata.namespace}/${ing.metadata.name}`;
    if (!controller || !statuses[key]?.admitted) continue;
    const rule = ing.spec.rules.find((r) => !r.host?.startsWith('*'));
    // The literal start of the first path: `/admin(/|$)(.*)` → `/admin`.
    const path = /^[^([{*+?|$^\\]*/.exec(rule?.paths[0]?.path ?? '/')![0] || '/';
    out(`try:       curl ${rule?.host ? `-H 'Host: ${rule.host}' ` : ''}http://${controller.loadBalancer!.ip}${path}   (Ingress ${key})`);
  }
  for (const line of gatewayHints(cluster.snapshot, cluster.manifests)) out(line);
  let scope: ReadonlySet<string> = new Set(userObjectKeys(raw));
  const stopWatching = values.watch
    ? watchFiles(values.filename, async () => {
        try {
          const next = await loadObjects(values.filename!, [], [], manifestOptions(config, manifestFlags));
          for (const n of next.result.notices) out(n);
          scope = await kube.replace(next.raw, scope);
          out('applied: the manifest files changed');
        } catch (err) {
          out(`not applied (nothing changed): ${(err as Error).message}`);
        }
      })
    : undefined;
  out(values.watch ? 'Watching the manifest files; press Ctrl+C to stop.' : 'Press Ctrl+C to stop.');

  const first = await nextSignal();
  stopWatching?.();
  kube.close();
  out(`${first}: stopping; open connections have ${graceMs / 1000} s to finish (${first} again to stop at once)`);
  let forced: NodeJS.Signals | undefined;
  const onSecond = (signal: NodeJS.Signals): void => {
    forced = signal;
    out(`${signal}: stopping at once`);
    void cluster.stop({ graceMs: 0 });
  };
  process.once('SIGINT', onSecond);
  process.once('SIGTERM', onSecond);
  const stopping = cluster.stop({ graceMs });
  await admin.close();
  await stopping;
  process.off('SIGINT', onSecond);
  process.off('SIGTERM', onSecond);
  uninstall();
  listenerGuard.setLog(undefined);
  const errors = listenerGuard.total();
  out(`stopped: every listener closed${forced ? ', open connections reset' : ''}${errors > 0 ? `; ${errors} unexpected listener errors were logged` : ''}`);
  // A forced stop exits as a process killed by that signal would (128 + its number).
  return forced === undefined ? 0 : 128 + (forced === 'SIGINT' ? 2 : 15);
}

/** An address that cannot be bound is named with what holds it; other errors pass through. */
function explainBindError(err: unknown): never {
  throw err instanceof AksEmuError && err.code === 'AKS_EMU_ADDRESS_IN_USE' ? explainAddressInUse(err) : err;
}

/** EX_SOFTWARE of sysexits.h: an internal error. */
const EXIT_SOFTWARE = 70;
/** The grace period of a stop on SIGTERM at time scale 1, scaled like every emulated duration. */
const DEFAULT_GRACE_MS = 5_000;

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Pods with readiness probes start NotReady and the LB probes need a few rounds to see a
 * backend: the table is printed once traffic would be served (or after a bound), so the
 * first curl a newcomer types finds its way.
 */
async function waitForPods(cluster: EmbeddedCluster, out: (line: string) => void): Promise<void> {
  const boundMs = 60_000;
  if (await cluster.waitUntilServing(boundMs)) return;
  const waiting = cluster.snapshot.pods.filter((p) => p.phase === 'Running' && !p.ready).map((p) => `${p.namespace}/${p.name}`);
  out(
    `not serving yet after ${boundMs / 1000}s${waiting.length ? `; pods not Ready (readiness probes failing?): ${waiting.join(', ')}` : '; LB probes see no healthy node (aks-emu get lb)'}`,
  );
}
