/** What the aks-emu child tells the harness once its cluster is up. */

/** Where a row's load goes: host:port, from `sourceAddress` when the path needs an in-cluster client. */
export interface Reach {
  readonly host: string;
  readonly port: number;
  readonly sourceAddress?: string;
  /** How the row reaches it, for the table (`127.67.0.1:80`, `VIP from node 127.64.0.4`). */
  readonly via: string;
}

export interface Unavailable {
  readonly unavailable: string;
}

export type TargetId = 'direct' | 'clusterip' | 'nodeport' | 'lb' | 'ingress' | 'gateway' | 'process-direct' | 'process-lb';

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
}

export function isReachable(t: Reach | Unavailable): t is Reach {
  return !('unavailable' in t);
}
