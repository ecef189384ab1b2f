/**
 * The typed, normalised Kubernetes objects aks-emu understands.
 *
 * The manifests layer produces these (defaults applied, shapes checked); everything
 * after it reads only these types, never raw YAML. Field names follow the Kubernetes
 * API so that JSON output and error field paths read like kubectl's.
 */
import type { GatewayApiObjects } from './gateway-types.js';
import type { NetworkPolicy } from './network-policy.js';

/** Where an object came from: used by every error that names it. */
export interface Source {
  /** Path of the file as the user gave it (or `<inline>` for objects passed to the library API). */
  readonly file: string;
  /** 1-based index of the YAML document inside the file. */
  readonly doc: number;
}

export interface ObjectMeta {
  readonly name: string;
  /** `default` when absent (cluster-scoped kinds use ''). */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Stable per object: derived from kind/namespace/name when the manifest has none. */
  readonly uid: string;
}

interface Located {
  readonly source: Source;
  readonly metadata: ObjectMeta;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type IntOrString = number | string;

// ---------------------------------------------------------------------------------------
// core/v1 Service

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface ServicePort {
  /** '' only when the Service has exactly one port (Kubernetes allows that). */
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** Defaults to `port`; a string is the name of a container port, resolved per pod. */
  readonly targetPort: IntOrString;
  /** Requested NodePort; allocation happens in the control plane. */
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

export interface ServiceSpec {
  readonly type: ServiceType;
  /** Requested ClusterIP: undefined (allocate), an address, or 'None' (headless). */
  readonly clusterIP?: string;
  readonly ports: readonly ServicePort[];
  /** undefined: selector-less Service (endpoints come from EndpointSlices / Endpoints). */
  readonly selector?: Readonly<Record<string, string>>;
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** sessionAffinityConfig.clientIP.timeoutSeconds, default 10800. */
  readonly sessionAffinityTimeoutSeconds: number;
  /** Only meaningful for NodePort and LoadBalancer; 'Cluster' by default. */
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly healthCheckNodePort?: number;
  /** Deprecated spec.loadBalancerIP. */
  readonly loadBalancerIP?: string;
  readonly loadBalancerSourceRanges: readonly string[];
  readonly allocateLoadBalancerNodePorts: boolean;
  readonly publishNotReadyAddresses: boolean;
  readonly loadBalancerClass?: string;
  readonly externalName?: string;
}

export interface Service extends Located {
  readonly kind: 'Service';
  readonly spec: ServiceSpec;
}

// ---------------------------------------------------------------------------------------
// Pods and the workloads that make them

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

export interface HttpGetAction {
  readonly path: string;
  readonly port: IntOrString;
  readonly scheme: 'HTTP' | 'HTTPS';
  readonly httpHeaders: readonly { readonly name: string; readonly value: string }[];
}

export interface ProbeSpec {
  readonly httpGet?: HttpGetAction;
  readonly tcpSocket?: { readonly port: IntOrString };
  /** exec and grpc probes are accepted but cannot run against the built-in pod: they pass. */
  readonly exec?: { readonly command: readonly string[] };
  readonly grpc?: { readonly port: number; readonly service?: string };
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** A key of a ConfigMap or Secret (configMapKeyRef, secretKeyRef). */
export interface KeyRef {
  readonly name: string;
  readonly key: string;
  readonly optional: boolean;
}

/** env[].valueFrom: where a variable's value comes from when it has no literal value. */
export type EnvVarSource = { readonly configMapKeyRef: KeyRef } | { readonly secretKeyRef: KeyRef } | { readonly fieldRef: { readonly fieldPath: string } };

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: EnvVarSource;
}

/** envFrom[]: every key of a ConfigMap or Secret, with an optional prefix. */
export interface EnvFromSource {
  readonly prefix: string;
  readonly configMapRef?: { readonly name: string; readonly optional: boolean };
  readonly secretRef?: { readonly name: string; readonly optional: boolean };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly ports: readonly ContainerPort[];
  readonly readinessProbe?: ProbeSpec;
  readonly livenessProbe?: ProbeSpec;
  readonly startupProbe?: ProbeSpec;
  /** The image's ENTRYPOINT override and its CMD override, as written (no $(VAR) expansion yet). */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  /** Always, IfNotPresent or Never; absent: Always for `:latest` or no tag, else IfNotPresent. */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  readonly env?: readonly EnvVar[];
  readonly envFrom?: readonly EnvFromSource[];
}

export interface PodSpec {
  readonly nodeName?: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly containers: readonly Container[];
  readonly initContainers: readonly Container[];
  readonly hostNetwork: boolean;
  /** Seconds between SIGTERM and SIGKILL (default 30). */
  readonly terminationGracePeriodSeconds?: number;
  /** Always (default), OnFailure or Never: whether kubelet restarts an exited container. */
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  /** spec.hostname and spec.subdomain: with a headless Service named `subdomain`, the pod's DNS name `hostname.subdomain.ns.svc.cluster.local`. */
  readonly hostname?: string;
  readonly subdomain?: string;
}

export interface PodTemplate {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: PodSpec;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'ReplicaSet' | 'ReplicationController' | 'DaemonSet' | 'Pod';

/** Anything that makes pods. A bare Pod is a workload of one replica named after itself. */
export interface Workload extends Located {
  readonly kind: WorkloadKind;
  /** 1 for Pod; ignored for DaemonSet (one per eligible node). */
  readonly replicas: number;
  /** spec.selector.matchLabels (the template's labels for a Pod). */
  readonly selector: Readonly<Record<string, string>>;
  readonly template: PodTemplate;
  /** StatefulSet spec.serviceName: the headless Service that gives each pod its DNS name. */
  readonly serviceName?: string;
}

// ---------------------------------------------------------------------------------------
// Endpoints for selector-less Services

export interface EndpointSliceEndpoint {
  readonly addresses: readonly string[];
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
}

export interface EndpointSlicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly appProtocol?: string;
}

/** discovery.k8s.io/v1 EndpointSlice; legacy v1 Endpoints are normalised into this shape. */
export interface EndpointSlice extends Located {
  readonly kind: 'EndpointSlice';
  /** The `kubernetes.io/service-name` label (or the Endpoints object's own name). */
  readonly serviceName: string;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints: readonly EndpointSliceEndpoint[];
  readonly ports: readonly EndpointSlicePort[];
  /** 'Endpoints' when it was written as a legacy v1 Endpoints object. */
  readonly writtenAs: 'EndpointSlice' | 'Endpoints';
}

// ---------------------------------------------------------------------------------------
// Secrets, namespaces, ingress

export interface Secret extends Located {
  readonly kind: 'Secret';
  readonly type: string;
  /** Decoded bytes of `data` merged with `stringData`, as base64 to stay JSON-friendly. */
  readonly data: Readonly<Record<string, string>>;
}

/** v1 ConfigMap: only `data` (strings); binaryData cannot be an environment variable. */
export interface ConfigMap extends Located {
  readonly kind: 'ConfigMap';
  readonly data: Readonly<Record<string, string>>;
}

export interface Namespace extends Located {
  readonly kind: 'Namespace';
}

export interface IngressServiceBackend {
  readonly name: string;
  readonly port: { readonly number?: number; readonly name?: string };
}

export interface IngressBackend {
  readonly service?: IngressServiceBackend;
  readonly resource?: { readonly apiGroup?: string; readonly kind: string; readonly name: string };
}

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface HTTPIngressPath {
  /** '/' when absent (ImplementationSpecific). */
  readonly path: string;
  readonly pathType: PathType;
  readonly backend: IngressBackend;
}

export interface IngressRule {
  /** undefined: applies to every host. */
  readonly host?: string;
  readonly paths: readonly HTTPIngressPath[];
}

export interface IngressTLS {
  readonly hosts: readonly string[];
  readonly secretName?: string;
}

export interface Ingress extends Located {
  readonly kind: 'Ingress';
  readonly spec: {
    /** spec.ingressClassName, or the legacy `kubernetes.io/ingress.class` annotation. */
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly tls: readonly IngressTLS[];
    readonly rules: readonly IngressRule[];
  };
}

export interface IngressClass extends Located {
  readonly kind: 'IngressClass';
  readonly spec: { readonly controller: string };
  /** The `ingressclass.kubernetes.io/is-default-class` annotation is "true". */
  readonly isDefault: boolean;
}

// ---------------------------------------------------------------------------------------

/** A kind that does not shape traffic (ConfigMap, ServiceAccount, ...): noted once, then ignored. */
export interface SkippedObject {
  readonly source: Source;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

/** Everything read from a set of manifests, after parse, normalise and validate. */
export interface Manifests {
  readonly services: readonly Service[];
  readonly workloads: readonly Workload[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly secrets: readonly Secret[];
  /** Read for containers' env and envFrom; absent where a caller builds Manifests by hand. */
  readonly configMaps?: readonly ConfigMap[];
  readonly namespaces: readonly Namespace[];
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  /** GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant; absent when none was given. */
  readonly gatewayApi?: GatewayApiObjects;
  /** networking.k8s.io/v1 NetworkPolicies; absent when none was given. */
  readonly networkPolicies?: readonly NetworkPolicy[];
  readonly skipped: readonly SkippedObject[];
}

/** `namespace/name`: the key used for namespaced objects everywhere. */
export type ObjectKey = string;

export function objectKey(meta: { readonly namespace: string; readonly name: string }): ObjectKey {
  return `${meta.namespace}/${meta.name}`;
}
