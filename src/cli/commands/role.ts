/**
 * `aks-emu role ...` (hidden): what each container of the container runtime runs. One
 * image, the role picked by the command (compose.yaml, src/testcontainers). Settings come
 * from flags or, as compose passes them, from AKS_EMU_* environment variables.
 */
import { installLastResort, listenerGuard } from '../../dataplane/l4/listener-guard.js';
import type { EventEmitter } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';

import { parseImageGlobs } from '../../config/containers.js';
import { AKS_ADDRESSES } from '../../config/defaults.js';
import { buildConfig, loadConfigFile, parseHostPort, type ConfigInput } from '../../config/load.js';
import { loadManifests } from '../../manifests/index.js';
import { ECHO_POD_ENV } from '../../runtime/container/container-host.js';
import { ContainerPodControl } from '../../runtime/container/container-pod-control.js';
import { createEchoPod } from '../../pods/index.js';
import { ContainerControlPlane } from '../../runtime/container/control-plane.js';
import { DockerEngine, DOCKER_SOCKET } from '../../runtime/container/docker-engine.js';
import { startControlServer } from '../../runtime/container/control-server.js';
import { LoadBalancerRole, probeSourceAddress } from '../../runtime/container/lb-role.js';
import { IpCommandNetwork } from '../../runtime/container/net-setup.js';
import { parseProxyMode } from '../../runtime/container/kernel-proxy.js';
import { NodeRole } from '../../runtime/container/node-role.js';
import { parsePublishList } from '../../runtime/container/published-ports.js';
import { startStandalone } from '../../runtime/container/standalone.js';
import { setUpToolbox } from '../../runtime/container/toolbox.js';
import { adminRequest } from '../admin-client.js';
import { intFlag, parseCommand, usageError } from '../args.js';
import type { PodInfo, Snapshot } from '../../cluster/snapshot.js';

export const roleHelp = `Run one role of the container runtime (used by compose.yaml and the testcontainers module).

Usage:
  aks-emu role control [-f PATH...] [--config FILE] [--listen HOST:PORT]
  aks-emu role node --name NODE [--control URL] [--proxy-mode nftables|userspace]
  aks-emu role lb [--control URL] [--publish PORT=NS/NAME:PORT,...]
  aks-emu role toolbox [--control URL]
  aks-emu role standalone -f PATH... [--config FILE] [--listen HOST:PORT]
  aks-emu role echo   (in a container pod's sandbox; AKS_EMU_POD names the pod)

Environment (flags win): AKS_EMU_MANIFESTS (control; default /app/examples/store),
AKS_EMU_CONFIG, AKS_EMU_NODES, AKS_EMU_TIME_SCALE, AKS_EMU_SEED, AKS_EMU_CONTAINER_IMAGES
(image globs run as real containers), AKS_EMU_WHEN_IMAGE_UNAVAILABLE (error|echo), AKS_EMU_CONTROL
(default http://control:7070), AKS_EMU_PUBLISH, AKS_EMU_PROXY_MODE (node: nftables forwards
Service ports in the node's kernel, userspace keeps them in aks-emu; default userspace),
AKS_EMU_LB_MODE (lb: nftables DNATs frontends to the nodes its probes hold up, in the kernel), AKS_EMU_READY_FILE (default
/tmp/aks-emu-ready: written once the role serves, for the container's healthcheck).`;

type Out = (line: string) => void;

const FLAGS = {
  filename: { type: 'string', short: 'f', multiple: true },
  config: { type: 'string' },
  listen: { type: 'string' },
  name: { type: 'string' },
  control: { type: 'string' },
  publish: { type: 'string' },
  'time-scale': { type: 'string' },
  'proxy-mode': { type: 'string' },
} as const;

export async function role(argv: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand('role', argv, FLAGS);
  const [which, extra] = positionals;
  if (values.help || which === undefined) {
    out(roleHelp);
    return values.help ? 0 : 1;
  }
  if (extra !== undefined) throw usageError('role', `unexpected argument "${extra}"`);
  const env = process.env;
  const controlUrl = values.control ?? env.AKS_EMU_CONTROL ?? 'http://control:7070';
  const log: Out = (line) => out(`[${which}] ${line}`);
  const ready = (): void => writeFileSync(env.AKS_EMU_READY_FILE ?? '/tmp/aks-emu-ready', `${new Date().toISOString()}\n`);
  const network = new IpCommandNetwork();
  // As `up` does: an I/O error no handler took is logged and survived; a programming error
  // exits non-zero (EX_SOFTWARE), and compose's restart policy or the test sees it.
  listenerGuard.setLog(log);
  installLastResort(() => {
    log('fatal: an unexpected error outside any connection (logged above); exiting');
    process.exit(70);
  });

  switch (which) {
    case 'control': {
      const config = await clusterConfig(values, env, true);
      const files = values.filename ?? [env.AKS_EMU_MANIFESTS ?? '/app/examples/store'];
      const { manifests, notices } = await loadManifests(files);
      for (const notice of notices) log(notice);
      // With the Docker socket mounted, control answers logs and kills of container pods from the engine.
      const engine = existsSync(DOCKER_SOCKET) ? new DockerEngine(DOCKER_SOCKET) : undefined;
      const control = new ContainerControlPlane({ config, manifests, log, ...(engine === undefined ? {} : { containers: new ContainerPodControl(engine) }) });
      control.on('error', (err) => log(`error: ${(err as Error).message}`));
      const listen = listenAddress(values.listen, '0.0.0.0:7070');
      const server = await startControlServer(control, listen.host, listen.port);
      log(`control plane for ${config.nodes.length} nodes serving ${server.url} (manifests: ${files.join(', ')})`);
      ready();
      return untilSignal(log, async () => {
        await server.close();
        await control.stop();
        await engine?.close();
      });
    }
    case 'node': {
      if (values.name === undefined) throw usageError('role', 'role node needs --name NODE');
      const proxyMode = parseProxyMode(
        values['proxy-mode'] ?? env.AKS_EMU_PROXY_MODE,
        values['proxy-mode'] === undefined ? 'AKS_EMU_PROXY_MODE' : '--proxy-mode',
      );
      const snapshot = (await waitForControl(controlUrl, log)) as Snapshot;
      const node = await NodeRole.start({
        name: values.name,
        controlUrl,
        network,
        probeSource: probeSourceAddress(snapshot.settings.addresses.nodeSubnet),
        proxyMode,
        ...(env.AKS_EMU_SANDBOX_IMAGE ? { sandboxImage: env.AKS_EMU_SANDBOX_IMAGE } : {}),
        log,
        onSynced: (s) => {
          if (s.nodes.find((n) => n.name === values.name)?.running) ready();
        },
      });
      return untilSignal(
        log,
        () => node.stop(),
        () => node.stopDeadlineMs,
      );
    }
    case 'lb': {
      const { entries, errors } = parsePublishList(values.publish ?? env.AKS_EMU_PUBLISH ?? '');
      if (errors.length > 0) throw usageError('role', `--publish: ${errors.join('; ')}`);
      const lbMode = parseProxyMode(env.AKS_EMU_LB_MODE, 'AKS_EMU_LB_MODE');
      const lb = await LoadBalancerRole.start({ controlUrl, network, publish: entries, log, onSynced: ready, lbMode });
      return untilSignal(log, () => lb.stop());
    }
    case 'toolbox': {
      const snapshot = (await waitForControl(controlUrl, log)) as Snapshot;
      // Quiet on success: the user's command's output follows.
      await setUpToolbox(snapshot, network);
      return 0;
    }
    case 'echo': {
      // The echo pod inside a container pod's sandbox, in place of an image that cannot be had.
      const raw = env[ECHO_POD_ENV];
      if (raw === undefined) throw usageError('role', `role echo needs ${ECHO_POD_ENV} (the pod, as JSON)`);
      const echo = createEchoPod(JSON.parse(raw) as PodInfo, {
        nodeName: env.AKS_EMU_NODE ?? '',
        ...(env.AKS_EMU_NODE_ADDRESS ? { nodeAddress: env.AKS_EMU_NODE_ADDRESS } : {}),
      });
      await echo.start();
      log(`echo pod serving ${echo.pod.namespace}/${echo.pod.name} on ${echo.pod.ip}`);
      return untilSignal(log, () => echo.stop());
    }
    case 'standalone': {
      if (!values.filename?.length) throw usageError('role', 'role standalone needs -f PATH (the manifests)');
      const config = await clusterConfig(values, env, false);
      const standalone = await startStandalone({ files: values.filename, config, log });
      const { cluster } = standalone;
      await waitFor(() => cluster.snapshot.pods.every((p) => p.phase !== 'Running' || p.ready), cluster, 'snapshot');
      // Probes mark nodes down while a NodePort has no endpoint yet and need numberOfProbes passes to
      // bring them back; every probe needs one healthy node (under Local, nodes without a pod stay down).
      const everyProbeHasANode = (): boolean => {
        const up = new Set(
          cluster
            .probeStatus()
            .filter((s) => s.state === 'up')
            .map((s) => `${s.loadBalancer}/${s.probe}`),
        );
        return cluster.probeStatus().every((s) => up.has(`${s.loadBalancer}/${s.probe}`));
      };
      // Bounded by a few probe intervals: a probe that keeps failing (a 404 on its request path) must not stall the start.
      const { timeScale } = cluster.config;
      const probeBoundMs = Math.max(
        1_000,
        ...cluster.snapshot.loadBalancers.flatMap((lb) => lb.probes.map((p) => p.intervalInSeconds * 1000 * timeScale * (p.numberOfProbes + 2))),
      );
      await waitFor(everyProbeHasANode, cluster, 'probe', probeBoundMs);
      log(`admin API ${standalone.admin.url}, frontends relayed from ${standalone.publishAddress}`);
      log('ready');
      ready();
      return untilSignal(log, () => standalone.stop());
    }
    default:
      throw usageError('role', `unknown role "${which}" (control, node, lb, toolbox, standalone or echo)`);
  }
}

type Values = { config?: string; listen?: string; 'time-scale'?: string };

/** Defaults < config file < environment < flags. The container runtime uses AKS's own ranges. */
async function clusterConfig(values: Values, env: NodeJS.ProcessEnv, aksAddresses: boolean): Promise<ReturnType<typeof buildConfig>> {
  const file = values.config ?? env.AKS_EMU_CONFIG;
  const input: ConfigInput = {
    ...(aksAddresses ? { addresses: { ...AKS_ADDRESSES } } : {}),
    seed: 1,
    ...(file ? await loadConfigFile(file) : {}),
  };
  const nodes = intFlag('role', 'AKS_EMU_NODES', env.AKS_EMU_NODES || undefined, 1, 100);
  if (nodes !== undefined) input.nodes = nodes;
  const seed = intFlag('role', 'AKS_EMU_SEED', env.AKS_EMU_SEED || undefined, 0, 2 ** 31 - 1);
  if (seed !== undefined) input.seed = seed;
  if (aksAddresses && env.AKS_EMU_CONTAINER_IMAGES) {
    input.containers = { images: parseImageGlobs(env.AKS_EMU_CONTAINER_IMAGES), whenImageUnavailable: env.AKS_EMU_WHEN_IMAGE_UNAVAILABLE || 'error' };
  }
  const scale = values['time-scale'] ?? (env.AKS_EMU_TIME_SCALE || undefined);
  if (scale !== undefined) input.timeScale = Number(scale);
  const listen = listenAddress(values.listen, '0.0.0.0:7070');
  input.admin = { host: listen.host, port: listen.port };
  return buildConfig(input, file ?? 'environment');
}

function listenAddress(flag: string | undefined, fallback: string): { host: string; port: number } {
  const hp = parseHostPort(flag ?? fallback);
  if (hp === undefined) throw usageError('role', `invalid value "${flag}" for flag --listen: expected HOST:PORT`);
  return hp;
}

/** The first snapshot, once control answers (it may still be starting). */
async function waitForControl(controlUrl: string, log: Out): Promise<unknown> {
  for (let delay = 100; ; delay = Math.min(2_000, delay * 2)) {
    try {
      return await adminRequest(controlUrl, '/aks-emu/v1/snapshot');
    } catch (err) {
      log(`waiting for control at ${controlUrl}: ${(err as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Until the condition holds, re-checked on each event, or a bound passes: a failing
 * readiness probe or a Local-policy Service must not hang the start.
 */
function waitFor(check: () => boolean, emitter: EventEmitter, event: string, boundMs = 60_000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      resolve();
    };
    const onEvent = (): void => {
      if (check()) done();
    };
    const timer = setTimeout(done, boundMs);
    emitter.on(event, onEvent);
  });
}

/**
 * Docker stops a container with SIGTERM and kills it after its grace period: close every
 * listener, and exit within a second even if a peer keeps a connection half-open.
 */
const STOP_DEADLINE_MS = 700;

function untilSignal(log: Out, stop: () => Promise<void>, deadlineMs: () => number = () => STOP_DEADLINE_MS): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (signal: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log(`${signal}: stopping`);
      setTimeout(() => process.exit(0), deadlineMs());
      stop().then(
        () => {
          resolve(0);
          process.exit(0);
        },
        (err: Error) => {
          log(`error while stopping: ${err.message}`);
          resolve(1);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
