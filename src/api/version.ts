/** The Kubernetes version aks-emu reports for its nodes (a current AKS default). */
export const kubernetesVersion = 'v1.32.7';
