/** What the aks-emu child tells the harness once its cluster is up. */

/** Where a row's load goes: host:port, from `sourceAddress` when the path needs an in-cluster client. */
export interface Reach {
  readonly host: string;
  readonly port: number;
  readonly sourceAddress?: string;
  /** The Host header, when the row needs another than the cluster's (the external Ingress rule). */
  readonly hostHeader?: string;
  /** How the row reaches it, for the table (`127.67.0.1:80`, `VIP from node 127.64.0.4`). */
  readonly via: string;
}

export interface Unavailable {
  readonly unavailable: string;
}

export type TargetId = 'direct' | 'clusterip' | 'nodeport' | 'lb' | 'ingress' | 'gateway' | 'process-direct' | 'process-lb' | ExternalTargetId;

/** The rows to the external backend: a separate process the harness runs, reached through selector-less Services. */
export type ExternalTargetId = 'direct-external' | 'clusterip-external' | 'nodeport-external' | 'lb-external' | 'ingress-external';

/** Every target the aks-emu child reports on, in the order it resolves them. */
export const TARGET_IDS: readonly TargetId[] = [
  'direct',
  'clusterip',
  'nodeport',
  'lb',
  'ingress',
  'gateway',
  'process-direct',
  'process-lb',
  'direct-external',
  'clusterip-external',
  'nodeport-external',
  'lb-external',
  'ingress-external',
];

/** Where the harness's own backend process listens (the EndpointSlices of the external Services point there). */
export interface ExternalBackend {
  readonly host: string;
  readonly port: number;
}

export interface ClusterReady {
  readonly targets: Readonly<Record<TargetId, Reach | Unavailable>>;
  /** The one echo pod every row ends at. */
  readonly backend: { readonly pod: string; readonly host: string; readonly port: number };
  /** The process pod's own listener (127.0.0.1:PORT), for haproxy-process; undefined when it is not up. */
  readonly processBackend?: { readonly host: string; readonly port: number };
  /** The Host header every row sends (the Ingress rule's host). */
  readonly hostHeader: string;
  readonly notices: readonly string[];
}

export interface ClusterSettings {
  readonly timeScale: number;
  readonly seed: number;
  /** The built-in ingress-nginx controller (its readiness takes ~20 s at real timings). */
  readonly ingress: boolean;
  /** The external backend process, when its rows run: the cluster adds selector-less Services for it. */
  readonly external?: ExternalBackend;
  /** Address ranges instead of the default ones (a baseline build runs beside this one on its own). */
  readonly addresses?: Readonly<Record<'nodeSubnet' | 'podCIDR' | 'serviceCIDR' | 'publicFrontends', string>>;
}

export function isReachable(t: Reach | Unavailable): t is Reach {
  return !('unavailable' in t);
}
