/**
 * The controller's ConfigMap (`--configmap`, `ingress-nginx-controller` in the controller's
 * namespace with the chart's defaults), read for the keys that shape traffic, with
 * ingress-nginx's defaults (internal/ingress/controller/config/config.go NewDefault) and
 * its parsing (template/configmap.go ReadConfig: mapstructure with weakly typed input, so
 * booleans are Go's strconv.ParseBool and integers strconv.ParseInt).
 *
 * ingress-nginx itself accepts any ConfigMap and logs what it cannot use ("unexpected error
 * merging defaults: ... cannot parse 'hsts' as bool"), or fails `nginx -t` and keeps the
 * old configuration; aks-emu reports those values as errors naming the ConfigMap and the
 * key in those words, before anything is applied. Keys ingress-nginx has and aks-emu does
 * not emulate are notices.
 */
import type { FieldError } from '../../errors/index.js';
import { objectKey, type ConfigMap } from '../../model/types.js';
import { DEFAULT_PROXY, parseNginxSize } from './annotations.js';
import type { ControllerChart } from './controller-manifests.js';
import type { ControllerTraffic, ProxySettings } from './types.js';

/** What the ConfigMap sets for every Ingress (annotations may override per location) and for the controller. */
export interface ControllerSettings {
  /** strict-validate-path-type: Exact/Prefix paths must be plain paths (default true since v1.12). */
  readonly strictValidatePathType: boolean;
  /** Defaults of every location: proxy-*-timeout, proxy-body-size. */
  readonly proxy: ProxySettings;
  /** ssl-redirect: the default of the annotation. */
  readonly sslRedirect: boolean;
  /** custom-http-errors: every location's, unless its Ingress names its own. */
  readonly customHttpErrors: readonly number[];
  /** What the data plane applies to each request. */
  readonly traffic: ControllerTraffic;
}

const DEFAULT_HSTS = 'max-age=31536000; includeSubDomains';

export const DEFAULT_CONTROLLER_SETTINGS: ControllerSettings = Object.freeze({
  strictValidatePathType: true,
  proxy: DEFAULT_PROXY,
  sslRedirect: true,
  customHttpErrors: [],
  traffic: Object.freeze({ hsts: DEFAULT_HSTS, useForwardedHeaders: false, computeFullForwardedFor: false }),
});

const BOOL_KEYS = [
  'strict-validate-path-type',
  'use-forwarded-headers',
  'compute-full-forwarded-for',
  'ssl-redirect',
  'hsts',
  'hsts-include-subdomains',
  'hsts-preload',
  'disable-access-log',
];
const INT_KEYS = ['proxy-connect-timeout', 'proxy-read-timeout', 'proxy-send-timeout', 'proxy-next-upstream-tries'];
const IMPLEMENTED = new Set([...BOOL_KEYS, ...INT_KEYS, 'proxy-body-size', 'hsts-max-age', 'custom-http-errors']);

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export interface ConfigMapRead {
  readonly settings: ControllerSettings;
  readonly errors: readonly FieldError[];
  readonly notices: readonly string[];
}

/** The controller's ConfigMap among the manifests' (undefined: none, all defaults). */
export function findControllerConfigMap(configMaps: readonly ConfigMap[] | undefined, chart: ControllerChart): ConfigMap | undefined {
  const key = `${chart.configMap.namespace}/${chart.configMap.name}`;
  return configMaps?.find((cm) => objectKey(cm.metadata) === key);
}

const cache = new WeakMap<ConfigMap, ConfigMapRead>();

export function readControllerConfigMap(cm: ConfigMap | undefined): ConfigMapRead {
  if (!cm) return { settings: DEFAULT_CONTROLLER_SETTINGS, errors: [], notices: [] };
  const cached = cache.get(cm);
  if (cached) return cached;
  const read = parse(cm);
  cache.set(cm, read);
  return read;
}

function parse(cm: ConfigMap): ConfigMapRead {
  const errors: FieldError[] = [];
  const notices: string[] = [];
  const data = cm.data;
  const bad = (key: string, message: string, keeps: string) =>
    errors.push({
      source: cm.source,
      kind: 'ConfigMap',
      name: cm.metadata.name,
      namespace: cm.metadata.namespace,
      field: `data[${key}]`,
      type: 'Invalid',
      value: data[key],
      detail: `${message} (the ingress-nginx controller reading this ConfigMap would ${keeps})`,
    });
  const merging = (key: string, goType: string, fn: string, dflt: string) =>
    bad(
      key,
      `unexpected error merging defaults: cannot parse '${key}' as ${goType}: ${fn}: parsing ${JSON.stringify(data[key])}: invalid syntax`,
      `log this and keep the default ${JSON.stringify(dflt)}`,
    );
  const bool = (key: string, dflt: boolean): boolean => {
    const v = data[key];
    if (v === undefined) return dflt;
    // mapstructure's weak decoding turns "" into false.
    if (v === '' || FALSE_VALUES.has(v)) return false;
    if (TRUE_VALUES.has(v)) return true;
    merging(key, 'bool', 'strconv.ParseBool', String(dflt));
    return dflt;
  };
  const seconds = (key: string, dfltMs: number): number => {
    const v = data[key];
    if (v === undefined) return dfltMs;
    if (!/^[+-]?\d+$/.test(v.trim())) {
      merging(key, 'int', 'strconv.ParseInt', String(dfltMs / 1000));
      return dfltMs;
    }
    const n = Number(v.trim());
    if (n < 1) {
      bad(
        key,
        `${n} is not a timeout nginx accepts ("${key.replace(/-/g, '_')}" must be at least 1s)`,
        'fail nginx -t and keep serving its previous configuration',
      );
      return dfltMs;
    }
    return n * 1000;
  };
  for (const key of Object.keys(data)) {
    if (!IMPLEMENTED.has(key)) notices.push(`ConfigMap ${objectKey(cm.metadata)}: key ${JSON.stringify(key)} is not emulated by aks-emu (ignored)`);
  }
  let bodySizeLimit = DEFAULT_PROXY.bodySizeLimit;
  const sizeText = data['proxy-body-size'];
  if (sizeText !== undefined) {
    const size = parseNginxSize(sizeText);
    if (size === undefined)
      bad(
        'proxy-body-size',
        `"client_max_body_size" directive invalid value: not an nginx size (a number of bytes, or with k, m or g, such as 8m)`,
        'fail nginx -t and keep serving its previous configuration',
      );
    else bodySizeLimit = size;
  }
  const triesText = data['proxy-next-upstream-tries'];
  let nextUpstreamTries = DEFAULT_PROXY.nextUpstreamTries;
  if (triesText !== undefined) {
    if (!/^\d+$/.test(triesText.trim())) merging('proxy-next-upstream-tries', 'int', 'strconv.ParseInt', String(nextUpstreamTries));
    // nginx: proxy_next_upstream_tries 0 means no limit; aks-emu's retries stop at the endpoints' count anyway.
    else nextUpstreamTries = Number(triesText.trim()) === 0 ? Number.MAX_SAFE_INTEGER : Number(triesText.trim());
  }
  const proxy: ProxySettings = {
    connectTimeoutMs: seconds('proxy-connect-timeout', DEFAULT_PROXY.connectTimeoutMs),
    readTimeoutMs: seconds('proxy-read-timeout', DEFAULT_PROXY.readTimeoutMs),
    sendTimeoutMs: seconds('proxy-send-timeout', DEFAULT_PROXY.sendTimeoutMs),
    bodySizeLimit,
    nextUpstreamTries,
  };
  const hsts = bool('hsts', true);
  const includeSubdomains = bool('hsts-include-subdomains', true);
  const preload = bool('hsts-preload', false);
  let maxAge = '31536000';
  const maxAgeText = data['hsts-max-age'];
  if (maxAgeText !== undefined) {
    if (/^\d+$/.test(maxAgeText.trim())) maxAge = maxAgeText.trim();
    else
      bad(
        'hsts-max-age',
        'not a number of seconds: browsers ignore a Strict-Transport-Security header whose max-age is not one',
        'send that header, which has no effect',
      );
  }
  const customHttpErrors: number[] = [];
  const errorsText = data['custom-http-errors'];
  if (errorsText !== undefined) {
    for (const item of errorsText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')) {
      if (!/^[+-]?\d+$/.test(item)) {
        bad(
          'custom-http-errors',
          `${item} is not a valid http code: strconv.Atoi: parsing ${JSON.stringify(item)}: invalid syntax`,
          'log this and leave the code out',
        );
        continue;
      }
      const code = Number(item);
      if (code > 299 && code < 600) {
        if (!customHttpErrors.includes(code)) customHttpErrors.push(code);
      } else bad('custom-http-errors', `error code ${code} is not valid for custom error pages`, 'log this and leave the code out');
    }
  }
  const useForwardedHeaders = bool('use-forwarded-headers', false);
  const settings: ControllerSettings = {
    strictValidatePathType: bool('strict-validate-path-type', true),
    proxy,
    sslRedirect: bool('ssl-redirect', true),
    customHttpErrors,
    traffic: {
      hsts: hsts ? `max-age=${maxAge}${includeSubdomains ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}` : undefined,
      useForwardedHeaders,
      // nginx.tmpl: $full_x_forwarded_for only with use-forwarded-headers too.
      computeFullForwardedFor: useForwardedHeaders && bool('compute-full-forwarded-for', false),
      ...(bool('disable-access-log', false) ? { disableAccessLog: true } : {}),
    },
  };
  if (!useForwardedHeaders && data['compute-full-forwarded-for'] !== undefined) bool('compute-full-forwarded-for', false);
  return { settings, errors, notices };
}
