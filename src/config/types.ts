/**
 * How the emulated cluster is shaped (aks-emu.yaml or CLI flags). Kubernetes manifests
 * describe the workload; this describes the cluster. Defaults follow AKS; see defaults.ts.
 */

/** How an Azure LB rule spreads new flows over healthy backends. */
export type Distribution = 'round-robin' | 'five-tuple' | 'source-ip-protocol' | 'source-ip';

/** How kube-proxy picks an endpoint for a new connection. */
export type EndpointSelection = 'round-robin' | 'random';

export interface AddressRanges {
  /** Nodes and internal LB frontends (AKS: 10.224.0.0/16). */
  readonly nodeSubnet: string;
  /** Pods, a /24 per node (AKS: 10.244.0.0/16). */
  readonly podCIDR: string;
  /** ClusterIPs (AKS: 10.0.0.0/16). */
  readonly serviceCIDR: string;
  /** Public LB frontend IPs. */
  readonly publicFrontends: string;
}

/** aks-emu.yaml `containers:` (container runtime): images run as real containers. */
export interface ContainerImages {
  /** Globs on a container's image (`*` any run of characters); a pod runs as containers when every container's image matches one. */
  readonly images: readonly string[];
  /** `error` (kubelet's ErrImagePull / ImagePullBackOff) or `echo`: the built-in echo pod serves in the image's place. */
  readonly whenImageUnavailable: 'error' | 'echo';
}

/**
 * aks-emu.yaml `workloads:`: containers whose image matches run this command as a local
 * child process per replica (the `process` pod kind) instead of the echo pod.
 */
export interface WorkloadMapping {
  /** A glob on the container's image (`*` any run of characters, `?` one). */
  readonly image: string;
  /** argv: replaces the image's entrypoint and the container's command/args. */
  readonly command: readonly string[];
  /** Absolute working directory (a relative one in aks-emu.yaml is relative to that file). */
  readonly cwd: string;
  /** Added to the environment Kubernetes gives the container (these win). */
  readonly env: Readonly<Record<string, string>>;
}

export interface ClusterConfig {
  /** Node names in order; index i gets the i-th node address and pod /24. */
  readonly nodes: readonly string[];
  readonly addresses: AddressRanges;
  /** Default distribution of every LB rule (a Service with sessionAffinity ClientIP gets source-ip). */
  readonly distribution: Distribution;
  readonly endpointSelection: EndpointSelection;
  /**
   * Multiplies every emulated duration (LB probe interval, idle timeout, readiness probe
   * timing, node grace period). 1 is real time; 0.01 makes a 5 s probe interval 50 ms.
   */
  readonly timeScale: number;
  /** Standard LB limits per load balancer (Azure: 600 frontend IP configs, 1,500 rules). */
  readonly maxFrontendsPerLoadBalancer: number;
  readonly maxRulesPerLoadBalancer: number;
  /** Largest manifest file aks-emu reads or parses, in bytes (`limits.manifestFileBytes`, `--max-manifest-size`). */
  readonly maxManifestFileBytes: number;
  /** Largest total of the manifest files of one load, in bytes (`limits.manifestTotalBytes`). */
  readonly maxManifestTotalBytes: number;
  /** Pods a node may run (AKS `--max-pods`: 110 with kubenet, the default plugin here; 250 with Azure CNI Overlay). */
  readonly maxPods: number;
  /** Seed for random allocation (ClusterIPs, NodePorts); undefined = random each start. */
  readonly seed?: number;
  /** Seconds before pods on a stopped node lose readiness (node-monitor-grace-period). */
  readonly nodeMonitorGracePeriodSeconds: number;
  /** Where the admin API listens. */
  readonly admin: { readonly host: string; readonly port: number };
  /** The built-in ingress-nginx controller (the ingress issue), installed as the ingress-nginx Helm chart would be. */
  readonly ingress: IngressSettings;
  /** Real containers (the container runtime with a Docker socket); absent: none. */
  readonly containers?: ContainerImages;
  /** Images run as local processes (embedded runtime); absent or empty: every pod is an echo pod. */
  readonly workloads?: readonly WorkloadMapping[];
  /**
   * aks-emu.yaml `subnets:`: Azure subnet names → CIDR, for the
   * `azure-load-balancer-internal-subnet` annotation (which names a subnet of the cluster's
   * virtual network). The node subnet is always there as `aks-subnet`, AKS's name for it.
   */
  readonly subnets?: Readonly<Record<string, string>>;
}

type Labels = Readonly<Record<string, string>>;

/**
 * The ingress-nginx Helm chart's values aks-emu renders (aks-emu.yaml `ingress.values`),
 * named as in the chart's values.yaml. Absent values take the chart's defaults.
 */
export interface IngressChartValues {
  readonly nameOverride?: string;
  readonly fullnameOverride?: string;
  readonly namespaceOverride?: string;
  readonly commonLabels?: Labels;
  readonly controller?: {
    /** Suffix of the controller's Deployment and Service names (`controller`). */
    readonly name?: string;
    readonly replicaCount?: number;
    readonly labels?: Labels;
    readonly podLabels?: Labels;
    readonly podAnnotations?: Labels;
    /** The controller ConfigMap's data. */
    readonly config?: Labels;
    readonly configMapNamespace?: string;
    readonly ingressClassResource?: {
      readonly name?: string;
      readonly enabled?: boolean;
      readonly default?: boolean;
      readonly controllerValue?: string;
    };
    readonly service?: IngressServiceValues & {
      readonly enabled?: boolean;
      readonly enableHttp?: boolean;
      readonly enableHttps?: boolean;
      /** `external.enabled: false`: no public Service (an internal-only controller); `external.labels`. */
      readonly external?: { readonly enabled?: boolean; readonly labels?: Labels };
      /** A second Service `<controller>-internal`, rendered when enabled and given annotations. */
      readonly internal?: IngressServiceValues & { readonly enabled?: boolean };
    };
  };
}

/** The fields of `controller.service` and `controller.service.internal` that render a Service. */
export interface IngressServiceValues {
  readonly type?: string;
  readonly annotations?: Labels;
  readonly labels?: Labels;
  readonly externalTrafficPolicy?: string;
  readonly loadBalancerIP?: string;
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly loadBalancerClass?: string;
  readonly clusterIP?: string;
  readonly sessionAffinity?: string;
  readonly healthCheckNodePort?: number;
  readonly allocateLoadBalancerNodePorts?: boolean;
  readonly appProtocol?: boolean;
  readonly ports?: { readonly http?: number; readonly https?: number };
  readonly targetPorts?: { readonly http?: number | string; readonly https?: number | string };
  readonly nodePorts?: { readonly http?: number; readonly https?: number };
}

export interface IngressSettings {
  readonly enabled: boolean;
  readonly replicas: number;
  /** `helm install NAME`: the release name (default ingress-nginx). */
  readonly releaseName?: string;
  /** `helm install --namespace`: the release namespace (default ingress-nginx). */
  readonly namespace?: string;
  readonly values?: IngressChartValues;
}
