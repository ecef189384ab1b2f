/**
 * The snapshot: everything the data plane, the pod runtimes and the admin API need,
 * computed by the control plane from the manifests, the configuration and the runtime
 * facts. It is plain JSON-serialisable data (the container runtime pushes it over HTTP),
 * frozen, and replaced whole on every change; nothing downstream re-decides policy.
 */
import type { PendingReason } from './pod-pending.js';
import type { Distribution, EndpointSelection } from '../config/types.js';
import type { CompileResult } from './ingress/types.js';
import type { GatewayCompileResult } from './gateway/types.js';
import type { NetworkPolicyTable } from './netpol/table.js';
import type { Container, IntOrString, Protocol, ServiceType, Source, TrafficPolicy, WorkloadKind } from '../model/types.js';

export interface NodeInfo {
  readonly name: string;
  readonly index: number;
  /** InternalIP (127.224.0.4... embedded; 10.224.0.4... in containers). */
  readonly address: string;
  /** This node's pod range, a /24 of the pod CIDR. */
  readonly podCIDR: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** spec.unschedulable: cordoned, takes no new pods (kubectl shows Ready,SchedulingDisabled). */
  readonly unschedulable: boolean;
  /** The node's listeners are up (false after a user stops the node). */
  readonly running: boolean;
  /** The Ready condition: false once the node has been stopped for the grace period. */
  readonly ready: boolean;
}

/**
 * Which pod kind serves a pod's containers, as the pod-kind registry chose it when the
 * snapshot was built. A discriminated union: each kind carries what its runtime needs.
 */
export type PodKind =
  | { readonly kind: 'echo' }
  | { readonly kind: 'ingress-controller' }
  | { readonly kind: 'process'; readonly containers: readonly ProcessContainer[] }
  | {
      readonly kind: 'container';
      readonly containers: readonly ImageContainer[];
      readonly restartPolicy: 'Always' | 'OnFailure' | 'Never';
      readonly terminationGracePeriodSeconds: number;
      /** `echo`: the built-in echo pod serves in place of an image that cannot be had (aks-emu.yaml containers.whenImageUnavailable). */
      readonly whenImageUnavailable: 'error' | 'echo';
    }
  /** A Gateway's pod (Istio's gateway proxy); `gateway` is the Gateway's `namespace/name`. */
  | { readonly kind: 'gateway'; readonly gateway: string };

/** A container the `container` kind runs from its image, as kubelet would start it. */
export interface ImageContainer {
  readonly name: string;
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Replaces the image's ENTRYPOINT; `args` replaces its CMD. */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  /** env and envFrom of the manifest (ConfigMap and Secret values resolved); fieldRefs at the start. */
  readonly env: readonly ProcessEnvVar[];
  /** Why the container cannot start (kubelet's CreateContainerConfigError), e.g. a missing ConfigMap key. */
  readonly configError?: string;
}

/** One variable of a process container's environment, resolved but for what only its start knows. */
export type ProcessEnvVar =
  | { readonly name: string; readonly value: string }
  /** fieldRef (metadata.name, status.podIP, ...): resolved when the container starts. */
  | { readonly name: string; readonly fieldPath: string };

/** A container a `workloads:` mapping runs as a local process. */
export interface ProcessContainer {
  readonly name: string;
  readonly command: readonly string[];
  readonly cwd: string;
  /** env and envFrom of the manifest (ConfigMap and Secret values resolved), then the mapping's env. */
  readonly env: readonly ProcessEnvVar[];
  /** Why the container cannot start (kubelet's CreateContainerConfigError), e.g. a missing ConfigMap key. */
  readonly configError?: string;
}

/** A container's state as kubelet reports it (core/v1 ContainerState). */
export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: string } }
  | {
      readonly terminated: {
        readonly reason: string;
        readonly exitCode: number;
        readonly signal?: number;
        readonly message?: string;
        readonly startedAt?: string;
        readonly finishedAt: string;
      };
    };

/** core/v1 ContainerStatus, for the containers a pod runtime supervises (process, container). */
export interface ContainerStatusInfo {
  readonly name: string;
  readonly state: ContainerState;
  readonly lastState?: ContainerState;
  /** Running and, with a readinessProbe, passing it. */
  readonly ready: boolean;
  readonly restartCount: number;
  readonly started: boolean;
  /** What serves it: the process id of a process container. */
  readonly pid?: number;
  /** What serves it: the engine's container (`docker://ID`) of a container pod. */
  readonly containerID?: string;
  readonly image?: string;
}

export type PodKindName = PodKind['kind'];

export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ownerKind: WorkloadKind;
  readonly ownerName: string;
  readonly containers: readonly Container[];
  /** spec.terminationGracePeriodSeconds and spec.restartPolicy, where the manifest sets them. */
  readonly terminationGracePeriodSeconds?: number;
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** spec.hostname and spec.subdomain (a StatefulSet's pods: the pod's name and spec.serviceName), for per-pod DNS names. */
  readonly hostname?: string;
  readonly subdomain?: string;
  /** Running when its node runs; Pending when it could not be scheduled (no node fits). */
  readonly phase: 'Running' | 'Pending';
  /** Why a Pending pod is not running, as kube-scheduler or kubelet reports it. */
  readonly pending?: PendingReason;
  /** The Ready condition as endpoints see it (readiness probe result, forced state, node). */
  readonly ready: boolean;
  readonly runtime: PodKind;
  /** Reported by runtimes that supervise containers; absent for in-process kinds (echo, ingress controller). */
  readonly containerStatuses?: readonly ContainerStatusInfo[];
  readonly source: Source;
}

export interface ServicePortInfo {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly targetPort: IntOrString;
  /** Allocated (or requested) NodePort; undefined for ClusterIP Services and when not allocated. */
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

export interface ServiceLoadBalancerInfo {
  readonly internal: boolean;
  /** Shared Azure LB name: `kubernetes`, `kubernetes-internal`, or a further one past the limits. */
  readonly loadBalancerName: string;
  /** Frontend IP configuration name. */
  readonly frontendName: string;
  /** undefined while pending (EXTERNAL-IP `<pending>`), e.g. the requested IP is not available. */
  readonly ip?: string;
  /** Why it is pending, in words a user can act on. */
  readonly pendingReason?: string;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly type: ServiceType;
  /** Allocated ClusterIP, 'None' for headless, '' for ExternalName. */
  readonly clusterIP: string;
  readonly ports: readonly ServicePortInfo[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly sessionAffinity: 'None' | 'ClientIP';
  readonly sessionAffinityTimeoutSeconds: number;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly healthCheckNodePort?: number;
  readonly loadBalancerSourceRanges: readonly string[];
  readonly publishNotReadyAddresses: boolean;
  readonly externalName?: string;
  readonly loadBalancer?: ServiceLoadBalancerInfo;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly source: Source;
}

export interface Endpoint {
  readonly ip: string;
  /** The resolved target port for this endpoint (named targetPorts resolve per pod). */
  readonly port: number;
  readonly nodeName?: string;
  readonly podNamespace?: string;
  readonly podName?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export interface ServicePortEndpoints {
  /** The ServicePort's name ('' for a single unnamed port). */
  readonly name: string;
  readonly protocol: Protocol;
  readonly appProtocol?: string;
  /** Every endpoint, as an EndpointSlice would publish it (for display). */
  readonly endpoints: readonly Endpoint[];
  /**
   * The endpoints kube-proxy sends traffic to, in a stable order: ready ones; if none is
   * ready, serving+terminating ones; all when publishNotReadyAddresses. Local policies
   * filter this list by nodeName.
   */
  readonly usable: readonly Endpoint[];
}

export interface ServiceEndpoints {
  /** `namespace/name` of the Service. */
  readonly serviceKey: string;
  readonly ports: readonly ServicePortEndpoints[];
}

export interface FrontendIPConfiguration {
  readonly name: string;
  readonly ip: string;
  readonly serviceKey: string;
}

export interface LoadBalancingRule {
  /** `<frontendName>-TCP-<port>` as cloud-provider-azure names it. */
  readonly name: string;
  readonly frontendName: string;
  readonly frontendIP: string;
  readonly frontendPort: number;
  readonly protocol: Protocol;
  /** The NodePort (floating IP off) or the frontend port (floating IP on). */
  readonly backendPort: number;
  readonly serviceKey: string;
  readonly servicePortName: string;
  /** undefined when `port_{port}_no_probe_rule` switched the probe off: every node counts as up. */
  readonly probeName?: string;
  readonly distribution: Distribution;
  /** 4..100 minutes, default 4. */
  readonly idleTimeoutMinutes: number;
  /** true: RST to both ends at idle timeout (AKS default); false: silent drop. */
  readonly enableTcpReset: boolean;
  readonly enableFloatingIP: boolean;
  /** loadBalancerSourceRanges; empty allows every client. */
  readonly sourceRanges: readonly string[];
}

export interface LoadBalancerProbe {
  readonly name: string;
  readonly protocol: 'Tcp' | 'Http' | 'Https';
  /** NodePort, or healthCheckNodePort for externalTrafficPolicy Local. */
  readonly port: number;
  /** For Http/Https. */
  readonly requestPath?: string;
  readonly intervalInSeconds: number;
  /** Consecutive failures to take a node out, and successes to bring it back. */
  readonly numberOfProbes: number;
}

export interface LoadBalancerInfo {
  readonly name: string;
  readonly internal: boolean;
  readonly frontends: readonly FrontendIPConfiguration[];
  readonly rules: readonly LoadBalancingRule[];
  readonly probes: readonly LoadBalancerProbe[];
  /** Backend pool `kubernetes`: node names registered in it. */
  readonly backendPool: readonly string[];
}

export interface SnapshotSettings {
  readonly timeScale: number;
  readonly endpointSelection: EndpointSelection;
  readonly nodeMonitorGracePeriodSeconds: number;
  readonly addresses: {
    readonly nodeSubnet: string;
    readonly podCIDR: string;
    readonly serviceCIDR: string;
    readonly publicFrontends: string;
  };
}

export interface Snapshot {
  /** Increases by one on every change. */
  readonly version: number;
  /** ISO time from the injected clock. */
  readonly generatedAt: string;
  readonly settings: SnapshotSettings;
  readonly nodes: readonly NodeInfo[];
  readonly pods: readonly PodInfo[];
  readonly services: readonly ServiceInfo[];
  readonly endpoints: readonly ServiceEndpoints[];
  readonly loadBalancers: readonly LoadBalancerInfo[];
  /**
   * The built-in ingress controller's compiled configuration (what ingress-nginx renders
   * into nginx.conf), with each Ingress's admission; absent when the controller is off.
   */
  readonly ingress?: CompileResult;
  /** The built-in Gateway API controller's route tables and status; absent without Gateway API objects. */
  readonly gateway?: GatewayCompileResult;
  /** NetworkPolicies compiled against the pods (src/cluster/netpol); absent when there is none. */
  readonly networkPolicy?: NetworkPolicyTable;
}
