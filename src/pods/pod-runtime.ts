import type { ContainerStatusInfo, PodInfo } from '../cluster/snapshot.js';
import type { LocalEndpoint } from '../dataplane/l4/local-endpoints.js';

/** What serves a pod's containers: the built-in echo pod, the ingress controller, later a process or a container. */
export interface PodRuntime {
  readonly pod: PodInfo;
  /** Binds every declared TCP containerPort on pod.ip; rejects with AKS_EMU_ADDRESS_IN_USE and binds nothing. */
  start(): Promise<void>;
  /** Closes the listeners and every open connection. */
  stop(): Promise<void>;
  /** false: the health endpoints (and every probe path) answer 503, as a sick app's would. */
  setHealthy(healthy: boolean): void;
  /** Labels or readiness changed; addresses and ports are not re-bound. */
  update(pod: PodInfo): void;
  /**
   * The in-process entry of a listening port, for the embedded runtime's hop collapse;
   * undefined while stopped or for a port nothing listens on (the connection is refused).
   */
  localEndpoint?(port: number): LocalEndpoint | undefined;
  /** Kinds that supervise containers (process, container): their statuses as kubelet reports them. */
  containerStatuses?(): ContainerStatusInfo[];
  /** A container's output (the first container when none is named); undefined: no such container or instance. */
  logs?(request: { readonly container?: string; readonly previous?: boolean }): string | undefined;
  /** Every further line of a container's output until the returned function is called. */
  followLogs?(container: string | undefined, onLine: (line: string) => void): () => void;
  /** Runs an exec probe's command as the container would (process pods: in its directory and environment). */
  execProbe?(container: string, command: readonly string[], timeoutMs: number, done: (outcome: { success: boolean; message: string }) => void): () => void;
  /** Kills the pod's containers at once, as a crash would (they restart per restartPolicy). */
  crash?(): boolean;
}
