/**
 * networking.k8s.io/v1 NetworkPolicy, normalised: defaults applied (protocol TCP,
 * policyTypes as the API server defaults them), absent and empty lists kept apart where
 * Kubernetes gives them different meanings.
 */
import type { IntOrString, ObjectMeta, Protocol, Source } from './types.js';

/** metav1.LabelSelector. An empty selector (no labels, no expressions) selects everything. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

export interface IPBlock {
  readonly cidr: string;
  readonly except: readonly string[];
}

/**
 * One entry of `from` / `to`. Kubernetes allows podSelector, namespaceSelector (alone or
 * both: pods matching podSelector in namespaces matching namespaceSelector) or ipBlock
 * alone; podSelector alone means the policy's own namespace.
 */
export type NetworkPolicyPeer =
  | { readonly kind: 'pods'; readonly podSelector?: LabelSelector; readonly namespaceSelector?: LabelSelector }
  | { readonly kind: 'ipBlock'; readonly ipBlock: IPBlock };

export interface NetworkPolicyPort {
  readonly protocol: Protocol;
  /** Absent: every port of the protocol. A string names a container port of the destination pod. */
  readonly port?: IntOrString;
  /** With a numeric port: the range port..endPort. */
  readonly endPort?: number;
}

/** An ingress or egress rule: `peers` is `from` (ingress) or `to` (egress). */
export interface NetworkPolicyRule {
  /** Empty: every port. */
  readonly ports: readonly NetworkPolicyPort[];
  /** Empty: every peer (also outside the cluster). */
  readonly peers: readonly NetworkPolicyPeer[];
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicy {
  readonly kind: 'NetworkPolicy';
  readonly source: Source;
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly podSelector: LabelSelector;
    /** As defaulted by the API server: Ingress always unless written, Egress when egress rules exist. */
    readonly policyTypes: readonly PolicyType[];
    readonly ingress: readonly NetworkPolicyRule[];
    readonly egress: readonly NetworkPolicyRule[];
  };
}

/** The label every namespace carries (NamespaceDefaultLabelName, Kubernetes ≥ 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
