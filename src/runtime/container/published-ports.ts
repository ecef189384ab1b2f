/**
 * Docker publishes a port to one address of a container, never to the extra addresses a
 * role adds itself (LB frontend IPs). So the container also listens on its own address
 * at each frontend port and relays to the frontend, like docker-proxy does one hop
 * earlier. One frontend per container port: see publishPlan for which one. The client's address is lost on this path
 * anyway (docker-proxy connects from the network's gateway), so the relay adds nothing
 * the frontend could have seen.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

import { CONTROLLER_SOURCE_FILE } from '../../cluster/ingress/index.js';
import type { Snapshot } from '../../cluster/snapshot.js';
import { resetSocket } from '../../dataplane/l4/reset.js';

export interface PublishedFrontend {
  /** The port Docker publishes on this container. */
  readonly containerPort: number;
  readonly frontendIP: string;
  readonly frontendPort: number;
  /** `namespace/name` of the Service. */
  readonly serviceKey: string;
}

export interface PublishPlan {
  readonly published: readonly PublishedFrontend[];
  /** Frontends left unpublished: their port is taken by another one. */
  readonly shadowed: readonly PublishedFrontend[];
}

/** `8081=ingress-nginx/ingress-nginx-controller:80`: container port 8081 relays to that Service's frontend port 80. */
export interface ExplicitPublish {
  readonly containerPort: number;
  readonly serviceKey: string;
  readonly frontendPort: number;
}

/** Parses `PORT=NAMESPACE/NAME:PORT` entries separated by blanks or commas; undefined entries are errors. */
export function parsePublishList(text: string): { entries: ExplicitPublish[]; errors: string[] } {
  const entries: ExplicitPublish[] = [];
  const errors: string[] = [];
  for (const item of text.split(/[\s,]+/).filter((i) => i !== '')) {
    const m = /^(\d{1,5})=([a-z0-9-]+)\/([a-z0-9-]+):(\d{1,5})$/.exec(item);
    if (m === null) errors.push(`"${item}" is not CONTAINERPORT=NAMESPACE/NAME:PORT`);
    else entries.push({ containerPort: Number(m[1]), serviceKey: `${m[2]}/${m[3]}`, frontendPort: Number(m[4]) });
  }
  return { entries, errors };
}

/**
 * Which frontend each published port relays to. Explicit entries first; then every other
 * frontend on its own port number, the user's Services (a Gateway's generated Service is
 * the user's: they wrote the Gateway) before the built-in ingress controller's, the first
 * in snapshot order winning. `internal: false` leaves internal
 * frontends unpublished (on AKS they are reachable from the VNet only).
 */
export function publishPlan(snapshot: Snapshot, options: { readonly internal: boolean; readonly explicit?: readonly ExplicitPublish[] }): PublishPlan {
  const builtIn = new Set(snapshot.services.filter((s) => s.source.file === CONTROLLER_SOURCE_FILE).map((s) => `${s.namespace}/${s.name}`));
  const frontends: PublishedFrontend[] = [];
  for (const lb of snapshot.loadBalancers) {
    if (lb.internal && !options.internal) continue;
    for (const rule of lb.rules) {
      if (rule.protocol !== 'TCP') continue;
      frontends.push({ containerPort: rule.frontendPort, frontendIP: rule.frontendIP, frontendPort: rule.frontendPort, serviceKey: rule.serviceKey });
    }
  }
  frontends.sort((a, b) => Number(builtIn.has(a.serviceKey)) - Number(builtIn.has(b.serviceKey)));
  const byPort = new Map<number, PublishedFrontend>();
  const placed = new Set<PublishedFrontend>();
  for (const entry of options.explicit ?? []) {
    const frontend = frontends.find((f) => f.serviceKey === entry.serviceKey && f.frontendPort === entry.frontendPort);
    if (frontend === undefined || byPort.has(entry.containerPort)) continue;
    byPort.set(entry.containerPort, { ...frontend, containerPort: entry.containerPort });
    placed.add(frontend);
  }
  const shadowed: PublishedFrontend[] = [];
  for (const frontend of frontends) {
    if (placed.has(frontend)) continue;
    if (byPort.has(frontend.containerPort)) shadowed.push(frontend);
    else byPort.set(frontend.containerPort, frontend);
  }
  return { published: [...byPort.values()], shadowed };
}

interface Relay {
  readonly server: Server;
  target: PublishedFrontend;
}

export class PublishedPorts {
  readonly #relays = new Map<number, Relay>();
  readonly #sockets = new Set<Socket>();

  constructor(
    /** This container's own address, the one Docker publishes to. */
    private readonly address: string,
    /** The address relayed flows come from; the OS picks when undefined. */
    private readonly source: string | undefined,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async update(plan: PublishPlan): Promise<void> {
    const wanted = new Map(plan.published.map((p) => [p.containerPort, p]));
    for (const [port, relay] of this.#relays) {
      if (wanted.has(port)) continue;
      relay.server.close();
      this.#relays.delete(port);
    }
    for (const entry of plan.shadowed) {
      const owner = wanted.get(entry.containerPort)?.serviceKey;
      this.log(
        `port ${entry.containerPort} is published for ${owner}; ${entry.serviceKey} (${entry.frontendIP}:${entry.frontendPort}) is not (see AKS_EMU_PUBLISH)`,
      );
    }
    const opening: Promise<void>[] = [];
    for (const [port, target] of wanted) {
      const relay = this.#relays.get(port);
      if (relay !== undefined) relay.target = target;
      else opening.push(this.#open(target));
    }
    await Promise.all(opening);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const closing = [...this.#relays.values()].map((r) => new Promise<void>((resolve) => r.server.close(() => resolve())));
    this.#relays.clear();
    await Promise.all(closing);
  }

  async #open(target: PublishedFrontend): Promise<void> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.#relay(client, relay.target));
    const relay: Relay = { server, target };
    this.#relays.set(target.containerPort, relay);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(target.containerPort, this.address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log(`published port ${target.containerPort}: ${err.message}`));
        resolve();
      });
    });
  }

  #relay(client: Socket, target: PublishedFrontend): void {
    const upstream = connect({ host: target.frontendIP, port: target.frontendPort, localAddress: this.source, allowHalfOpen: true, noDelay: true });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    }
    // A reset on one side resets the other, as a dropped flow would.
    client.on('error', () => resetSocket(upstream));
    upstream.on('error', () => resetSocket(client));
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
