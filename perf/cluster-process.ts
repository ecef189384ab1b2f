/**
 * The aks-emu process under test, a child of the harness: one embedded cluster started
 * from perf/manifests through the library API. Its CPU and RSS are read from
 * /proc/<this pid> by the harness, apart from the load generator's and the anchors'.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from '../src/index.js';
import {
  TARGET_IDS,
  type ClusterReady,
  type ClusterSettings,
  type ExternalBackend,
  type ExternalTargetId,
  type Reach,
  type TargetId,
  type Unavailable,
} from './cluster-types.js';
import { EXTERNAL_HOST_HEADER, EXTERNAL_NODE_PORT, externalManifests } from './external-manifests.js';
import { announce, exitWithParent, serveParent } from './ipc.js';

/**
 * Outside both the test suite's address blocks (127.128-251.x) and the embedded defaults
 * (127.10/20/224/244.x), so a perf run can share the machine with tests and `aks-emu up`.
 */
export const PERF_ADDRESSES = {
  nodeSubnet: '127.64.0.0/16',
  podCIDR: '127.65.0.0/16',
  serviceCIDR: '127.66.0.0/16',
  publicFrontends: '127.67.0.0/16',
};

const HOST_HEADER = 'echo.perf.local';
const BACKEND_PORT_NAME = 'http';
const READY_TIMEOUT_MS = 90_000;

/** The PORT aks-emu gave the process pod, asked through its pod IP (GET /port). */
let processPort: number | undefined;

async function askProcessPort(cluster: Cluster): Promise<number | undefined> {
  const pod = cluster.pods({ app: 'proc' })[0];
  if (!pod?.ready) return undefined;
  const res = await fetch(`http://${pod.ip}:8080/port`);
  const port = Number(await res.text());
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function reach(cluster: Cluster, target: TargetId): Reach | Unavailable {
  try {
    switch (target) {
      case 'direct': {
        const pod = cluster.pods({ app: 'echo' })[0];
        if (!pod) return { unavailable: 'no echo pod' };
        return { host: pod.ip, port: 8080, via: `pod ${pod.ip}:8080` };
      }
      case 'clusterip': {
        const svc = cluster.service('echo');
        const node = cluster.nodes[0];
        if (!node) return { unavailable: 'no node' };
        // A ClusterIP answers in-cluster sources only; a node's address is one (a hostNetwork pod).
        return { host: svc.clusterIP, port: 80, sourceAddress: node.address, via: `VIP ${svc.clusterIP}:80 from node ${node.address}` };
      }
      case 'nodeport': {
        const node = cluster.nodes[0];
        if (!node) return { unavailable: 'no node' };
        const port = cluster.service('echo-np').nodePort(BACKEND_PORT_NAME);
        return { host: node.address, port, via: `node ${node.address}:${port}` };
      }
      case 'lb': {
        const ip = cluster.service('echo-lb').loadBalancerIP;
        if (!ip) return { unavailable: 'Service echo-lb has no EXTERNAL-IP' };
        return { host: ip, port: 80, via: `frontend ${ip}:80` };
      }
      case 'process-direct': {
        const pod = cluster.pods({ app: 'proc' })[0];
        if (!pod || !pod.ready) return { unavailable: 'the process pod is not Ready' };
        // Its own PORT, behind no proxy; the forwarder on pod IP:8080 is part of the aks-emu path.
        return processPort === undefined
          ? { unavailable: 'the process pod did not tell its PORT' }
          : { host: '127.0.0.1', port: processPort, via: `process 127.0.0.1:${processPort}` };
      }
      case 'process-lb': {
        const ip = cluster.service('proc-lb').loadBalancerIP;
        if (!ip) return { unavailable: 'Service proc-lb has no EXTERNAL-IP' };
        return { host: ip, port: 80, via: `frontend ${ip}:80` };
      }
      case 'ingress': {
        if (!cluster.config.ingress.enabled) return { unavailable: 'the ingress controller is off in this cluster' };
        const svc = cluster.service('ingress-nginx-controller', 'ingress-nginx');
        if (!svc.loadBalancerIP) return { unavailable: 'Service ingress-nginx/ingress-nginx-controller has no EXTERNAL-IP' };
        return { host: svc.loadBalancerIP, port: 80, via: `controller frontend ${svc.loadBalancerIP}:80` };
      }
      case 'direct-external':
      case 'clusterip-external':
      case 'nodeport-external':
      case 'lb-external':
      case 'ingress-external':
        return reachExternal(cluster, target);
      case 'gateway': {
        const address = cluster.gateway('perf').address;
        if (!address) return { unavailable: 'Gateway default/perf has no address' };
        return { host: address, port: 80, via: `gateway frontend ${address}:80` };
      }
    }
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
}

let external: ExternalBackend | undefined;

function reachExternal(cluster: Cluster, target: ExternalTargetId): Reach | Unavailable {
  if (external === undefined) return { unavailable: 'the external backend is not running' };
  switch (target) {
    case 'direct-external':
      return { host: external.host, port: external.port, via: `process ${external.host}:${external.port}` };
    case 'clusterip-external': {
      const node = cluster.nodes[0];
      if (!node) return { unavailable: 'no node' };
      const ip = cluster.service('external').clusterIP;
      return { host: ip, port: 80, sourceAddress: node.address, via: `VIP ${ip}:80 from node ${node.address}` };
    }
    case 'nodeport-external': {
      const node = cluster.nodes[0];
      if (!node) return { unavailable: 'no node' };
      return { host: node.address, port: EXTERNAL_NODE_PORT, via: `node ${node.address}:${EXTERNAL_NODE_PORT}` };
    }
    case 'lb-external': {
      const ip = cluster.service('external-lb').loadBalancerIP;
      if (!ip) return { unavailable: 'Service external-lb has no EXTERNAL-IP' };
      return { host: ip, port: 80, via: `frontend ${ip}:80` };
    }
    case 'ingress-external': {
      if (!cluster.config.ingress.enabled) return { unavailable: 'the ingress controller is off in this cluster' };
      const ip = cluster.service('ingress-nginx-controller', 'ingress-nginx').loadBalancerIP;
      if (!ip) return { unavailable: 'Service ingress-nginx/ingress-nginx-controller has no EXTERNAL-IP' };
      return { host: ip, port: 80, hostHeader: EXTERNAL_HOST_HEADER, via: `controller frontend ${ip}:80, Host ${EXTERNAL_HOST_HEADER}` };
    }
  }
}

async function main(): Promise<void> {
  const settings = JSON.parse(process.env.AKS_EMU_PERF_CLUSTER ?? '{}') as Partial<ClusterSettings>;
  external = settings.external;
  let cluster: Cluster | undefined;
  let profiler: Session | undefined;
  exitWithParent(async () => {
    await cluster?.stop();
  });
  serveParent({
    gc: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage();
    },
    stats: () => cluster?.stats(),
    // V8's CPU profiler (what --cpu-prof uses), limited to the window the harness measures.
    profileStart: async () => {
      profiler ??= new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return true;
    },
    profileStop: async ({ path }: { path: string }) => {
      if (!profiler) throw new Error('the profiler was not started');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      await writeFile(path, JSON.stringify(profile));
      return path;
    },
    stop: async () => {
      await cluster?.stop();
      cluster = undefined;
      return true;
    },
  });
  try {
    cluster = await startCluster({
      files: [fileURLToPath(new URL('./manifests/', import.meta.url))],
      ...(external === undefined ? {} : { manifests: externalManifests(external) }),
      config: { addresses: settings.addresses ?? PERF_ADDRESSES, ingress: { enabled: settings.ingress ?? true } },
      timeScale: settings.timeScale ?? 1,
      seed: settings.seed ?? 1,
      admin: false,
      workloads: [{ image: 'perf/process-backend*', command: [process.execPath, fileURLToPath(new URL('./process-backend.mjs', import.meta.url))] }],
    });
    // Rows start once every pod (the echo pod, the controller's) has passed its readiness probe.
    await cluster
      .waitFor((s) => s.pods.every((p) => p.phase !== 'Running' || p.ready), { timeoutMs: READY_TIMEOUT_MS, what: 'every pod Ready' })
      .catch(() => {});
    processPort = await askProcessPort(cluster).catch((err: Error) => {
      console.error(`perf: the process pod's PORT: ${err.message}`);
      return undefined;
    });
    const ids = TARGET_IDS;
    const targets = Object.fromEntries(ids.map((id) => [id, reach(cluster!, id)])) as ClusterReady['targets'];
    const pod = cluster.pods({ app: 'echo' })[0];
    const ready: ClusterReady = {
      targets,
      backend: { pod: pod?.name ?? '', host: pod?.ip ?? '', port: 8080 },
      ...(processPort === undefined ? {} : { processBackend: { host: '127.0.0.1', port: processPort } }),
      hostHeader: HOST_HEADER,
      notices: cluster.notices,
    };
    announce('ready', ready);
  } catch (err) {
    announce('failed', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}

void main();
