/**
 * The environment kubelet gives a container (pkg/kubelet/kubelet_pods.go
 * makeEnvironmentVariables): the Services of its namespace first (enableServiceLinks),
 * then envFrom, then env, where `$(VAR)` expands to an earlier variable and `$$(VAR)` is
 * left literal. Split in two: what the manifests decide (ConfigMap and Secret values,
 * resolved when the snapshot is built) and what only the start knows (the pod IP, the
 * Services' ClusterIPs at that moment).
 */
import type { PodInfo, ProcessEnvVar, ServiceInfo } from '../../cluster/snapshot.js';
import type { Container, Manifests } from '../../model/types.js';

export interface DeclaredEnv {
  readonly env: ProcessEnvVar[];
  /** kubelet's CreateContainerConfigError message when a non-optional reference is missing. */
  readonly error?: string;
}

/** kubelet skips envFrom keys that are not valid variable names (and records an event). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function declaredEnv(container: Container, namespace: string, manifests: Manifests, extra: Readonly<Record<string, string>>): DeclaredEnv {
  const configMap = (name: string) => manifests.configMaps?.find((c) => c.metadata.namespace === namespace && c.metadata.name === name)?.data;
  const secretData = (name: string) => manifests.secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === name)?.data;
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const env: ProcessEnvVar[] = [];
  let error: string | undefined;
  const fail = (message: string) => {
    error ??= message;
  };
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const data = configMap(from.configMapRef.name);
      if (data === undefined) {
        if (!from.configMapRef.optional) fail(`configmap "${from.configMapRef.name}" not found`);
        continue;
      }
      for (const [k, v] of Object.entries(data)) if (ENV_NAME.test(from.prefix + k)) env.push({ name: from.prefix + k, value: v });
    } else if (from.secretRef) {
      const data = secretData(from.secretRef.name);
      if (data === undefined) {
        if (!from.secretRef.optional) fail(`secret "${from.secretRef.name}" not found`);
        continue;
      }
      for (const [k, v] of Object.entries(data)) if (ENV_NAME.test(from.prefix + k)) env.push({ name: from.prefix + k, value: decode(v) });
    }
  }
  for (const v of container.env ?? []) {
    const source = v.valueFrom;
    if (source === undefined) env.push({ name: v.name, value: v.value ?? '' });
    else if ('fieldRef' in source) env.push({ name: v.name, fieldPath: source.fieldRef.fieldPath });
    else if ('configMapKeyRef' in source) {
      const ref = source.configMapKeyRef;
      const data = configMap(ref.name);
      if (data?.[ref.key] !== undefined) env.push({ name: v.name, value: data[ref.key]! });
      else if (!ref.optional)
        fail(data === undefined ? `configmap "${ref.name}" not found` : `couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
    } else {
      const ref = source.secretKeyRef;
      const data = secretData(ref.name);
      if (data?.[ref.key] !== undefined) env.push({ name: v.name, value: decode(data[ref.key]!) });
      else if (!ref.optional) fail(data === undefined ? `secret "${ref.name}" not found` : `couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
    }
  }
  for (const [name, value] of Object.entries(extra)) env.push({ name, value });
  return error === undefined ? { env } : { env, error };
}

/** A Service name as kubelet turns it into a variable prefix: upper case, `-` → `_`. */
const prefixOf = (name: string) => name.toUpperCase().replace(/-/g, '_');

/** kubelet's envvars.FromServices: `{SVC}_SERVICE_HOST/_PORT[_NAME]` and the Docker link variables. */
export function serviceEnv(services: readonly ServiceInfo[], namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    if (s.namespace !== namespace || s.clusterIP === '' || s.clusterIP === 'None' || s.ports.length === 0) continue;
    const n = prefixOf(s.name);
    const first = s.ports[0]!;
    env[`${n}_SERVICE_HOST`] = s.clusterIP;
    env[`${n}_SERVICE_PORT`] = String(first.port);
    for (const p of s.ports) if (p.name !== '') env[`${n}_SERVICE_PORT_${prefixOf(p.name)}`] = String(p.port);
    env[`${n}_PORT`] = `${first.protocol.toLowerCase()}://${s.clusterIP}:${first.port}`;
    for (const p of s.ports) {
      const base = `${n}_PORT_${p.port}_${p.protocol}`;
      env[base] = `${p.protocol.toLowerCase()}://${s.clusterIP}:${p.port}`;
      env[`${base}_PROTO`] = p.protocol.toLowerCase();
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_ADDR`] = s.clusterIP;
    }
  }
  return env;
}

/** The downward API fields kubelet resolves for env (podFieldSelectorRuntimeValue); undefined for others. */
export function fieldValue(pod: PodInfo, nodeAddress: string | undefined, fieldPath: string): string | undefined {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (label) return (label[1] === 'labels' ? pod.labels : pod.annotations)[label[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'spec.serviceAccountName':
      return 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.ip;
    case 'status.hostIP':
    case 'status.hostIPs':
      return nodeAddress ?? '';
    default:
      return undefined;
  }
}

/** `$(VAR)` → an earlier value (left as written when undefined); `$$` → `$` (expansion.MappingFuncFor). */
export function expand(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.hasOwn(env, name) ? env[name]! : whole;
  });
}

/** The container's environment at its start, in kubelet's order. */
export function containerEnv(
  pod: PodInfo,
  nodeAddress: string | undefined,
  declared: readonly ProcessEnvVar[],
  services: readonly ServiceInfo[],
): Record<string, string> {
  const env: Record<string, string> = { ...serviceEnv(services, pod.namespace) };
  for (const v of declared) {
    if ('fieldPath' in v) env[v.name] = fieldValue(pod, nodeAddress, v.fieldPath) ?? '';
    else env[v.name] = expand(v.value, env);
  }
  return env;
}
