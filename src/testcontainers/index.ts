/**
 * A testcontainers module for aks-emu, in the style of @testcontainers/localstack: one
 * container runs the whole emulated cluster (the embedded runtime) from a folder of
 * your manifests, and hands back the URLs your tests need.
 *
 *   const aks = await new AksEmuContainer().withManifests('k8s/').withTimeScale(0.05).start();
 *   await fetch(aks.getFrontendUrl('store-front'));      // through the Azure LB frontend
 *   await fetch(`${aks.getAdminUrl()}/api/v1/services`);   // the admin API (aks-emu get --server)
 *   await aks.stop();
 *
 * Inside the container every address is on loopback (127.x), which Docker's port mapping
 * cannot reach; the container relays each LB frontend from its own address at the
 * frontend's port (`aks-emu role standalone`), and those ports are the ones mapped. One
 * frontend per port is reachable: user Services win over the built-in ingress controller.
 */
import { randomBytes } from 'node:crypto';
import { AbstractStartedContainer, GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { stringify } from 'yaml';

import type { Snapshot } from '../cluster/snapshot.js';
import { AksEmuError } from '../errors/index.js';
import { loadManifests } from '../manifests/index.js';
import { publishPlan } from '../runtime/container/published-ports.js';

export const AKS_EMU_IMAGE = 'aks-emu:local';
export const ADMIN_PORT = 7070;
const MANIFESTS_IN_CONTAINER = '/manifests';
/** The built-in ingress controller's Service ports (see src/cluster/ingress/controller-manifests.ts). */
const INGRESS_PORTS = [80, 443];

/**
 * A `workloads:` mapping (the process pod kind) for the cluster in the container: each
 * replica of a container whose image matches `image` runs `command` as a process inside
 * the aks-emu container, in a copy of `hostDir` (the image's Node.js runs it; ship built
 * JavaScript and its production dependencies, not TypeScript).
 */
export interface ContainerWorkload {
  readonly image: string;
  readonly command: readonly string[];
  readonly hostDir: string;
  readonly env?: Readonly<Record<string, string>>;
}

const WORKLOADS_IN_CONTAINER = '/workloads';
const CONFIG_IN_CONTAINER = '/etc/aks-emu/aks-emu.yaml';

export class AksEmuContainer extends GenericContainer {
  #manifests: string | undefined;
  #timeScale: number | undefined;
  readonly #workloads: ContainerWorkload[] = [];

  constructor(image = AKS_EMU_IMAGE) {
    super(image);
    this.withStartupTimeout(120_000);
  }

  /** A folder (or file) of Kubernetes manifests on the host, copied into the container. */
  withManifests(hostPath: string): this {
    this.#manifests = hostPath;
    return this;
  }

  /** Multiplies every emulated duration (probe intervals, readiness probes): 0.05 makes a 5 s interval 250 ms. */
  withTimeScale(timeScale: number): this {
    this.#timeScale = timeScale;
    return this;
  }

  /** Runs the matching containers as processes of your code instead of echo pods (see ContainerWorkload). */
  withWorkload(workload: ContainerWorkload): this {
    this.#workloads.push(workload);
    return this;
  }

  override async start(): Promise<StartedAksEmuContainer> {
    if (this.#manifests === undefined) throw new AksEmuError('AKS_EMU_USAGE', 'AksEmuContainer: call withManifests(hostFolder) before start()');
    // The frontend ports must be exposed before the container starts, so the manifests are read here too.
    const { manifests } = await loadManifests([this.#manifests]);
    const ports = new Set<number>([ADMIN_PORT, ...INGRESS_PORTS]);
    for (const service of manifests.services) {
      if (service.spec.type !== 'LoadBalancer') continue;
      for (const port of service.spec.ports) if (port.protocol === 'TCP') ports.add(port.port);
    }
    const workloads = this.#workloads.map((w, i) => ({ image: w.image, command: [...w.command], cwd: `${WORKLOADS_IN_CONTAINER}/${i}`, env: { ...w.env } }));
    if (workloads.length > 0) {
      this.withCopyContentToContainer([{ content: stringify({ workloads }), target: CONFIG_IN_CONTAINER }]).withCopyDirectoriesToContainer(
        this.#workloads.map((w, i) => ({ source: w.hostDir, target: `${WORKLOADS_IN_CONTAINER}/${i}` })),
      );
    }
    // The admin API listens on every address of the container, so it requires a bearer token: one per container.
    const token = randomBytes(24).toString('base64url');
    this.withEnvironment({ AKS_EMU_ADMIN_TOKEN: token })
      .withExposedPorts(...ports)
      .withCopyDirectoriesToContainer([{ source: this.#manifests, target: MANIFESTS_IN_CONTAINER }])
      .withCommand([
        'role',
        'standalone',
        '-f',
        MANIFESTS_IN_CONTAINER,
        ...(workloads.length > 0 ? ['--config', CONFIG_IN_CONTAINER] : []),
        ...(this.#timeScale === undefined ? [] : ['--time-scale', String(this.#timeScale)]),
      ])
      .withWaitStrategy(Wait.forLogMessage(/\[standalone\] ready/));
    const started = await super.start();
    const adminUrl = `http://${started.getHost()}:${started.getMappedPort(ADMIN_PORT)}`;
    const res = await fetch(`${adminUrl}/aks-emu/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new AksEmuError('AKS_EMU_SERVER_UNREACHABLE', `AksEmuContainer: the admin API answered ${res.status}: ${await res.text()}`);
    const snapshot = (await res.json()) as Snapshot;
    return new StartedAksEmuContainer(started, adminUrl, token, snapshot);
  }
}

export class StartedAksEmuContainer extends AbstractStartedContainer {
  readonly #adminUrl: string;
  readonly #adminToken: string;
  readonly #snapshot: Snapshot;

  constructor(started: StartedTestContainer, adminUrl: string, adminToken: string, snapshot: Snapshot) {
    super(started);
    this.#adminUrl = adminUrl;
    this.#adminToken = adminToken;
    this.#snapshot = snapshot;
  }

  /**
   * The admin API's bearer token (send `Authorization: Bearer <token>`; the CLI reads it from
   * AKS_EMU_TOKEN): the API listens on the container's every address, so it requires one.
   */
  getAdminToken(): string {
    return this.#adminToken;
  }

  /** The admin API: Kubernetes-shaped reads, fault controls; `aks-emu get ... --server` takes it. */
  getAdminUrl(): string {
    return this.#adminUrl;
  }

  /** The snapshot as the cluster had it when it was ready (addresses, NodePorts, frontends). */
  getSnapshot(): Snapshot {
    return this.#snapshot;
  }

  /** `http://host:port` of a LoadBalancer Service's frontend (its first port by default). */
  getFrontendUrl(service: string, port?: number, namespace = 'default'): string {
    const key = `${namespace}/${service}`;
    const info = this.#snapshot.services.find((s) => `${s.namespace}/${s.name}` === key);
    if (info?.type !== 'LoadBalancer' || info.loadBalancer?.ip === undefined) {
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `service "${key}" has no LB frontend (type ${info?.type ?? 'none'})`);
    }
    const frontendPort = port ?? info.ports[0]?.port;
    const plan = publishPlan(this.#snapshot, { internal: true });
    const published = plan.published.find((p) => p.serviceKey === key && p.frontendPort === frontendPort);
    if (published === undefined) {
      const owner = plan.published.find((p) => p.containerPort === frontendPort)?.serviceKey;
      throw new AksEmuError('AKS_EMU_NOT_FOUND', `port ${frontendPort} of "${key}" is not published${owner ? ` (${owner} has that port)` : ''}`);
    }
    return `http://${this.getHost()}:${this.getMappedPort(published.containerPort)}`;
  }
}
