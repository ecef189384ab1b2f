/**
 * aks-emu.yaml `ingress:`: where the built-in ingress-nginx controller is installed and the
 * ingress-nginx Helm chart's values that shape its objects (`ingress.values`, the same keys
 * as a values.yaml or `--set`: controller.service.*, controller.podLabels, controller.name,
 * namespaceOverride, fullnameOverride, controller.config ...).
 *
 * Only the types of the values aks-emu renders are checked here; the rendered objects go
 * through the same validation as manifests (src/cluster/ingress/controller-chart.ts), so a
 * bad externalTrafficPolicy or loadBalancerIP is reported in Kubernetes' words. Other chart
 * values (nodeSelector, resources, ...) are accepted and have no effect, as values the
 * chart's templates do not read are ignored by Helm.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { IngressChartValues, IngressServiceValues, IngressSettings } from './types.js';

/** What users write under `ingress:`. */
export interface IngressInput {
  enabled?: boolean;
  replicas?: number;
  releaseName?: string;
  namespace?: string;
  /** `helm install -f FILE ...`: values files, merged in order; `values` goes on top, as `--set` does. */
  valuesFiles?: unknown;
  values?: unknown;
}

const INGRESS_KEYS = ['enabled', 'replicas', 'releaseName', 'namespace', 'valuesFiles', 'values'];

type Report = (field: string, message: string) => void;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A DNS-1123 label, as a Helm release name and a namespace must be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

class ValuesReader {
  constructor(
    readonly bad: Report,
    readonly at: string,
  ) {}

  object(o: Obj, key: string): Obj | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (isObj(v)) return v;
    this.bad(`${this.at}.${key}`, 'Invalid value: expected a mapping');
    return undefined;
  }

  sub(key: string): ValuesReader {
    return new ValuesReader(this.bad, `${this.at}.${key}`);
  }

  string(o: Obj, key: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.bad(`${this.at}.${key}`, `Invalid value: ${JSON.stringify(v)}: expected a string`);
    return undefined;
  }

  bool(o: Obj, key: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.bad(`${this.at}.${key}`, `Invalid value: ${JSON.stringify(v)}: expected true or false`);
    return undefined;
  }

  /** Ports may be numbers or (targetPorts) names; numbers written as strings are numbers, as Helm renders them. */
  intOrString(o: Obj, key: string): number | string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'string') return /^\d+$/.test(v) ? Number(v) : v;
    this.bad(`${this.at}.${key}`, `Invalid value: ${JSON.stringify(v)}: expected a number or a name`);
    return undefined;
  }

  int(o: Obj, key: string, min: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min) return n;
    this.bad(`${this.at}.${key}`, `Invalid value: ${JSON.stringify(v)}: must be a whole number >= ${min}`);
    return undefined;
  }

  /** A map of strings (labels, annotations, ConfigMap data): Helm quotes every value it renders there. */
  strings(o: Obj, key: string): Record<string, string> | undefined {
    const m = this.object(o, key);
    if (!m) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) {
      if (v === null || v === undefined) continue;
      if (typeof v === 'object') this.bad(`${this.at}.${key}.${k}`, 'Invalid value: expected a string');
      else out[k] = String(v);
    }
    return out;
  }

  list(o: Obj, key: string): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.bad(`${this.at}.${key}`, 'Invalid value: expected a list of strings');
    return undefined;
  }
}

function pair(r: ValuesReader, o: Obj, key: string, read: 'int' | 'intOrString'): { http?: number | string; https?: number | string } | undefined {
  const m = r.object(o, key);
  if (!m) return undefined;
  const sub = r.sub(key);
  const get = (k: string) => (read === 'int' ? sub.int(m, k, 1) : sub.intOrString(m, k));
  return { http: get('http'), https: get('https') };
}

function serviceValues(r: ValuesReader, s: Obj): NonNullable<NonNullable<IngressChartValues['controller']>['service']> {
  const external = r.object(s, 'external');
  const internal = r.object(s, 'internal');
  const er = r.sub('external');
  const ir = r.sub('internal');
  return {
    ...serviceShape(r, s),
    enabled: r.bool(s, 'enabled'),
    enableHttp: r.bool(s, 'enableHttp'),
    enableHttps: r.bool(s, 'enableHttps'),
    ...(external ? { external: { enabled: er.bool(external, 'enabled'), labels: er.strings(external, 'labels') } } : {}),
    ...(internal ? { internal: { ...serviceShape(ir, internal), enabled: ir.bool(internal, 'enabled') } } : {}),
  };
}

function serviceShape(r: ValuesReader, s: Obj): IngressServiceValues {
  return {
    type: r.string(s, 'type'),
    annotations: r.strings(s, 'annotations'),
    labels: r.strings(s, 'labels'),
    externalTrafficPolicy: r.string(s, 'externalTrafficPolicy'),
    loadBalancerIP: r.string(s, 'loadBalancerIP'),
    loadBalancerSourceRanges: r.list(s, 'loadBalancerSourceRanges'),
    loadBalancerClass: r.string(s, 'loadBalancerClass'),
    clusterIP: r.string(s, 'clusterIP'),
    sessionAffinity: r.string(s, 'sessionAffinity'),
    healthCheckNodePort: r.int(s, 'healthCheckNodePort', 1),
    allocateLoadBalancerNodePorts: r.bool(s, 'allocateLoadBalancerNodePorts'),
    appProtocol: r.bool(s, 'appProtocol'),
    ports: pair(r, s, 'ports', 'int') as { http?: number; https?: number } | undefined,
    targetPorts: pair(r, s, 'targetPorts', 'intOrString'),
    nodePorts: pair(r, s, 'nodePorts', 'int') as { http?: number; https?: number } | undefined,
  };
}

/** `ingress.values` → the subset aks-emu renders, with every type problem reported. */
export function readChartValues(input: unknown, bad: Report): IngressChartValues | undefined {
  if (input === undefined || input === null) return undefined;
  const r = new ValuesReader(bad, 'ingress.values');
  if (!isObj(input)) {
    bad('ingress.values', 'Invalid value: expected a mapping (the ingress-nginx chart values, as in a values.yaml)');
    return undefined;
  }
  const c = r.object(input, 'controller');
  const cr = r.sub('controller');
  const service = c ? cr.object(c, 'service') : undefined;
  const classResource = c ? cr.object(c, 'ingressClassResource') : undefined;
  const icr = cr.sub('ingressClassResource');
  return {
    nameOverride: r.string(input, 'nameOverride'),
    fullnameOverride: r.string(input, 'fullnameOverride'),
    namespaceOverride: r.string(input, 'namespaceOverride'),
    commonLabels: r.strings(input, 'commonLabels'),
    controller: c && {
      name: cr.string(c, 'name'),
      replicaCount: cr.int(c, 'replicaCount', 1),
      labels: cr.strings(c, 'labels'),
      podLabels: cr.strings(c, 'podLabels'),
      podAnnotations: cr.strings(c, 'podAnnotations'),
      config: cr.strings(c, 'config'),
      configMapNamespace: cr.string(c, 'configMapNamespace'),
      ingressClassResource: classResource && {
        name: icr.string(classResource, 'name'),
        enabled: icr.bool(classResource, 'enabled'),
        default: icr.bool(classResource, 'default'),
        controllerValue: icr.string(classResource, 'controllerValue'),
      },
      service: service && serviceValues(cr.sub('service'), service),
    },
  };
}

/** Helm's coalescing of values: mappings merge key by key, anything else is replaced; null removes a key. */
function mergeValues(into: Obj, from: Obj): Obj {
  const out: Obj = { ...into };
  for (const [k, v] of Object.entries(from)) {
    const old = out[k];
    if (v === null) delete out[k];
    else out[k] = isObj(old) && isObj(v) ? mergeValues(old, v) : v;
  }
  return out;
}

/** The values files (relative to `baseDir`), then the inline values, merged; problems name the file. */
function collectValues(input: IngressInput, baseDir: string, bad: Report): unknown {
  const files = input.valuesFiles;
  if (files === undefined || files === null) return input.values;
  if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
    bad('ingress.valuesFiles', 'Invalid value: expected a list of file paths (helm install -f FILE)');
    return input.values;
  }
  let merged: Obj = {};
  files.forEach((file: string, i) => {
    const path = resolve(baseDir, file);
    let value: unknown;
    try {
      value = parse(readFileSync(path, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return bad(`ingress.valuesFiles[${i}]`, `Invalid value: ${JSON.stringify(file)}: cannot read it as YAML (${why})`);
    }
    if (value === null || value === undefined) return;
    if (!isObj(value)) return bad(`ingress.valuesFiles[${i}]`, `Invalid value: ${JSON.stringify(file)}: expected a mapping of chart values`);
    merged = mergeValues(merged, value);
  });
  return isObj(input.values) ? mergeValues(merged, input.values) : input.values === undefined || input.values === null ? merged : input.values;
}

/** `ingress:` of aks-emu.yaml on top of `base`; relative values files start at `baseDir`. */
export function buildIngressSettings(given: IngressInput | undefined, base: IngressSettings, bad: Report, baseDir = process.cwd()): IngressSettings {
  if (given === undefined || given === null) return base;
  if (!isObj(given)) {
    bad('ingress', 'Invalid value: expected a mapping of enabled, replicas, releaseName, namespace, values');
    return base;
  }
  const input: IngressInput = given;
  for (const key of Object.keys(input)) if (!INGRESS_KEYS.includes(key)) bad(`ingress.${key}`, `unknown field (known: ${INGRESS_KEYS.join(', ')})`);
  const replicas = input.replicas;
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1))
    bad('ingress.replicas', 'Invalid value: must be a whole number >= 1');
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') bad('ingress.enabled', 'Invalid value: expected true or false');
  for (const key of ['releaseName', 'namespace'] as const) {
    const v = input[key];
    if (v !== undefined && (typeof v !== 'string' || v.length > 53 || !DNS_LABEL.test(v)))
      bad(`ingress.${key}`, `Invalid value: ${JSON.stringify(v)}: must be a lowercase RFC 1123 label of at most 53 characters`);
  }
  const values = readChartValues(collectValues(input, baseDir, bad), bad);
  const replicaCount = values?.controller?.replicaCount;
  if (replicas !== undefined && replicaCount !== undefined && replicas !== replicaCount)
    bad('ingress.replicas', `Invalid value: ${replicas}: differs from ingress.values.controller.replicaCount (${replicaCount}); give one of them`);
  return {
    enabled: input.enabled ?? base.enabled,
    replicas: replicas ?? replicaCount ?? base.replicas,
    ...((input.releaseName ?? base.releaseName) !== undefined ? { releaseName: input.releaseName ?? base.releaseName } : {}),
    ...((input.namespace ?? base.namespace) !== undefined ? { namespace: input.namespace ?? base.namespace } : {}),
    ...((values ?? base.values) !== undefined ? { values: values ?? base.values } : {}),
  };
}
