/**
 * aks-emu.yaml (or library/CLI options) → ClusterConfig. Every problem names the file and
 * the field, and all are reported together.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { AksEmuError } from '../errors/index.js';
import { buildSubnets } from './subnets.js';
import { parseByteSize } from '../manifests/limits.js';
import { aksNodeNames, defaultConfig, MAX_PODS_RANGE } from './defaults.js';
import { buildContainerImages, type ContainerImagesInput } from './containers.js';
import type { ClusterConfig, Distribution, EndpointSelection } from './types.js';
import { buildWorkloads, type WorkloadInput } from './workloads.js';
import { buildIngressSettings, type IngressInput } from './ingress-values.js';

/** The shape users write: every field optional. */
export interface ConfigInput {
  nodes?: number | string[];
  distribution?: Distribution;
  endpointSelection?: EndpointSelection;
  timeScale?: number;
  seed?: number;
  nodeMonitorGracePeriodSeconds?: number;
  limits?: {
    frontendsPerLoadBalancer?: number;
    rulesPerLoadBalancer?: number;
    /** Bytes, or a quantity such as `16Mi`. */
    manifestFileBytes?: number | string;
    manifestTotalBytes?: number | string;
  };
  /** Pods per node (AKS --max-pods). */
  maxPods?: number;
  addresses?: Partial<ClusterConfig['addresses']>;
  admin?: string | { host?: string; port?: number };
  /** The built-in controller: enabled, replicas, releaseName, namespace and the ingress-nginx chart's values. */
  ingress?: IngressInput;
  containers?: ContainerImagesInput;
  /** Images run as local processes; a relative cwd is relative to `baseDir`. */
  workloads?: WorkloadInput[];
  /** Subnet names → CIDR for `azure-load-balancer-internal-subnet`. */
  subnets?: Record<string, string>;
  /** Where relative paths start: the config file's folder (set by loadConfigFile), else the current directory. */
  baseDir?: string;
}

const DISTRIBUTIONS: readonly Distribution[] = ['round-robin', 'five-tuple', 'source-ip-protocol', 'source-ip'];
const SELECTIONS: readonly EndpointSelection[] = ['round-robin', 'random'];
const KEYS = [
  'nodes',
  'distribution',
  'endpointSelection',
  'timeScale',
  'seed',
  'nodeMonitorGracePeriodSeconds',
  'limits',
  'maxPods',
  'addresses',
  'admin',
  'ingress',
  'workloads',
  'containers',
  'subnets',
  'baseDir',
];
const LIMIT_KEYS = ['frontendsPerLoadBalancer', 'rulesPerLoadBalancer', 'manifestFileBytes', 'manifestTotalBytes'];
const BYTE_LIMITS = new Set(['manifestFileBytes', 'manifestTotalBytes']);

/** `127.0.0.1:7070` → host and port; undefined when it is not of that shape. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(value.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : undefined;
}

export function buildConfig(input: ConfigInput, where = 'options', base: ClusterConfig = defaultConfig()): ClusterConfig {
  const problems: string[] = [];
  const bad = (field: string, message: string) => problems.push(`${where}: ${field}: ${message}`);
  for (const key of Object.keys(input)) if (!KEYS.includes(key)) bad(key, `unknown field (known: ${KEYS.join(', ')})`);
  let nodes = base.nodes;
  if (typeof input.nodes === 'number') {
    if (!Number.isInteger(input.nodes) || input.nodes < 1 || input.nodes > 100)
      bad('nodes', `Invalid value: ${input.nodes}: must be a whole number from 1 to 100`);
    else nodes = aksNodeNames(input.nodes);
  } else if (Array.isArray(input.nodes)) {
    const names = input.nodes;
    if (names.length === 0 || names.some((n) => typeof n !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n))) {
      bad('nodes', 'Invalid value: node names must be DNS subdomains (lower case alphanumeric, "-" or ".")');
    } else if (new Set(names).size !== names.length) bad('nodes', 'Duplicate value: node names must be unique');
    else nodes = names;
  } else if (input.nodes !== undefined) bad('nodes', 'Invalid value: a count or a list of node names');
  if (input.distribution !== undefined && !DISTRIBUTIONS.includes(input.distribution)) {
    bad('distribution', `Unsupported value: ${JSON.stringify(input.distribution)}: supported values: ${DISTRIBUTIONS.map((d) => `"${d}"`).join(', ')}`);
  }
  if (input.endpointSelection !== undefined && !SELECTIONS.includes(input.endpointSelection)) {
    bad('endpointSelection', `Unsupported value: ${JSON.stringify(input.endpointSelection)}: supported values: ${SELECTIONS.map((d) => `"${d}"`).join(', ')}`);
  }
  if (input.timeScale !== undefined && !(typeof input.timeScale === 'number' && input.timeScale > 0 && input.timeScale <= 1)) {
    bad('timeScale', `Invalid value: ${JSON.stringify(input.timeScale)}: must be a number greater than 0 and at most 1`);
  }
  if (input.seed !== undefined && !Number.isInteger(input.seed)) bad('seed', 'Invalid value: must be an integer');
  const grace = input.nodeMonitorGracePeriodSeconds;
  if (grace !== undefined && !(typeof grace === 'number' && grace >= 0))
    bad('nodeMonitorGracePeriodSeconds', 'Invalid value: must be a number of seconds >= 0');
  for (const [field, value] of Object.entries(input.limits ?? {})) {
    if (!LIMIT_KEYS.includes(field)) bad(`limits.${field}`, `unknown field (known: ${LIMIT_KEYS.join(', ')})`);
    else if (BYTE_LIMITS.has(field)) {
      if (parseByteSize(value) === undefined)
        bad(`limits.${field}`, `Invalid value: ${JSON.stringify(value)}: must be a number of bytes, such as 16777216 or 16Mi`);
    } else if (!Number.isInteger(value) || (value as number) < 1) bad(`limits.${field}`, 'Invalid value: must be a whole number >= 1');
  }
  const maxPods = input.maxPods;
  if (maxPods !== undefined && !(Number.isInteger(maxPods) && maxPods >= MAX_PODS_RANGE.min && maxPods <= MAX_PODS_RANGE.max)) {
    bad('maxPods', `Invalid value: ${JSON.stringify(maxPods)}: must be a whole number from ${MAX_PODS_RANGE.min} to ${MAX_PODS_RANGE.max} (AKS --max-pods)`);
  }
  const fileBytes = parseByteSize(input.limits?.manifestFileBytes) ?? base.maxManifestFileBytes;
  const givenTotal = parseByteSize(input.limits?.manifestTotalBytes);
  let admin = base.admin;
  if (typeof input.admin === 'string') {
    const hp = parseHostPort(input.admin);
    if (!hp) bad('admin', `Invalid value: ${JSON.stringify(input.admin)}: expected HOST:PORT`);
    else admin = hp;
  } else if (input.admin) admin = { host: input.admin.host ?? admin.host, port: input.admin.port ?? admin.port };
  const ingress = buildIngressSettings(input.ingress, base.ingress, bad, input.baseDir ?? process.cwd());
  const containers = buildContainerImages(input.containers, bad) ?? base.containers;
  const workloads = input.workloads === undefined ? base.workloads : buildWorkloads(input.workloads, input.baseDir ?? process.cwd(), bad);
  const subnets = input.subnets === undefined ? base.subnets : buildSubnets(input.subnets, { ...base.addresses, ...input.addresses }.nodeSubnet, bad);
  if (problems.length > 0) throw new AksEmuError('AKS_EMU_CONFIG_INVALID', problems.join('\n'));
  return {
    ...base,
    ...(containers === undefined ? {} : { containers }),
    nodes,
    distribution: input.distribution ?? base.distribution,
    endpointSelection: input.endpointSelection ?? base.endpointSelection,
    timeScale: input.timeScale ?? base.timeScale,
    seed: input.seed ?? base.seed,
    nodeMonitorGracePeriodSeconds: grace ?? base.nodeMonitorGracePeriodSeconds,
    maxFrontendsPerLoadBalancer: input.limits?.frontendsPerLoadBalancer ?? base.maxFrontendsPerLoadBalancer,
    maxRulesPerLoadBalancer: input.limits?.rulesPerLoadBalancer ?? base.maxRulesPerLoadBalancer,
    maxManifestFileBytes: fileBytes,
    // A larger per-file limit alone raises the total with it.
    maxManifestTotalBytes: givenTotal ?? Math.max(base.maxManifestTotalBytes, 4 * fileBytes),
    maxPods: maxPods ?? base.maxPods,
    addresses: { ...base.addresses, ...input.addresses },
    admin,
    ingress,
    ...(workloads === undefined ? {} : { workloads }),
    ...(subnets === undefined ? {} : { subnets }),
  };
}

export async function loadConfigFile(path: string): Promise<ConfigInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `${path}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? err})`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `${path}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new AksEmuError('AKS_EMU_CONFIG_INVALID', `${path}: expected a mapping of settings`);
  return { ...(value as ConfigInput), baseDir: dirname(resolve(path)) };
}
