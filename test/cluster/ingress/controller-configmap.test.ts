import { describe, expect, it } from 'vitest';
import { compileIngress } from '../../../src/cluster/ingress/compile.js';
import { DEFAULT_CONTROLLER_SETTINGS, readControllerConfigMap } from '../../../src/cluster/ingress/controller-configmap.js';
import { routeProbePath } from '../../../src/cluster/ingress/healthz-probe.js';
import { buildConfig, type ConfigInput } from '../../../src/config/load.js';
import { ClusterState } from '../../../src/runtime/cluster-state.js';
import { formatLocatedFieldError } from '../../../src/errors/index.js';
import { parseManifests } from '../../../src/manifests/index.js';
import type { ConfigMap } from '../../../src/model/types.js';
import { checkManifests } from '../../../src/runtime/check.js';
import { tutorialIngress } from '../../fixtures/aks-ingress-tutorial.js';

function configMap(data: Record<string, string>): ConfigMap {
  return {
    kind: 'ConfigMap',
    source: { file: 'cm.yaml', doc: 1 },
    metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx', labels: {}, annotations: {}, uid: 'u' },
    data,
  };
}

const TUTORIAL_INGRESS = tutorialIngress(true);

const CM = (data: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
data:
${data}
`;

function errorsOf(yaml: string, config = buildConfig({})): string {
  const { manifests } = parseManifests([{ file: 'user.yaml', text: yaml }]);
  return checkManifests(manifests, config, () => 0.5)
    .errors.map(formatLocatedFieldError)
    .join('\n');
}

describe('the controller ConfigMap', () => {
  it('without one, has ingress-nginx defaults', () => {
    expect(readControllerConfigMap(undefined).settings).toBe(DEFAULT_CONTROLLER_SETTINGS);
    expect(DEFAULT_CONTROLLER_SETTINGS).toMatchObject({
      strictValidatePathType: true,
      sslRedirect: true,
      proxy: { connectTimeoutMs: 5000, readTimeoutMs: 60000, bodySizeLimit: 1024 * 1024 },
      traffic: { hsts: 'max-age=31536000; includeSubDomains', useForwardedHeaders: false, computeFullForwardedFor: false },
    });
  });

  it('reads the keys that shape traffic', () => {
    const { settings, errors, notices } = readControllerConfigMap(
      configMap({
        'strict-validate-path-type': 'false',
        'use-forwarded-headers': 'true',
        'compute-full-forwarded-for': 'true',
        'proxy-body-size': '8m',
        'ssl-redirect': 'False',
        hsts: 'true',
        'hsts-max-age': '600',
        'hsts-include-subdomains': 'false',
        'hsts-preload': 't',
        'custom-http-errors': '404, 503',
        'proxy-connect-timeout': '2',
        'proxy-read-timeout': '30',
        'worker-processes': '4',
      }),
    );
    expect(errors).toEqual([]);
    expect(settings).toMatchObject({
      strictValidatePathType: false,
      sslRedirect: false,
      customHttpErrors: [404, 503],
      proxy: { connectTimeoutMs: 2000, readTimeoutMs: 30000, sendTimeoutMs: 60000, bodySizeLimit: 8 * 1024 * 1024 },
      traffic: { hsts: 'max-age=600; preload', useForwardedHeaders: true, computeFullForwardedFor: true },
    });
    expect(notices).toEqual(['ConfigMap ingress-nginx/ingress-nginx-controller: key "worker-processes" is not emulated by aks-emu (ignored)']);
    expect(readControllerConfigMap(configMap({ hsts: 'false' })).settings.traffic.hsts).toBeUndefined();
    // compute-full-forwarded-for acts only with use-forwarded-headers (nginx.tmpl).
    expect(readControllerConfigMap(configMap({ 'compute-full-forwarded-for': 'true' })).settings.traffic.computeFullForwardedFor).toBe(false);
  });

  it("names the ConfigMap and key of every bad value, in ingress-nginx's words", () => {
    const text = errorsOf(
      CM(`  hsts: "yes"
  proxy-connect-timeout: 5s
  proxy-read-timeout: "0"
  proxy-body-size: 10x
  custom-http-errors: "404,abc,200"
  hsts-max-age: a-year`),
    );
    const head = 'user.yaml (document 1): The ConfigMap "ingress-nginx-controller" in namespace "ingress-nginx" is invalid: ';
    expect(text).toContain(
      `${head}data[hsts]: Invalid value: "yes": unexpected error merging defaults: cannot parse 'hsts' as bool: strconv.ParseBool: parsing "yes": invalid syntax`,
    );
    expect(text).toContain(
      `${head}data[proxy-connect-timeout]: Invalid value: "5s": unexpected error merging defaults: cannot parse 'proxy-connect-timeout' as int`,
    );
    expect(text).toContain(`${head}data[proxy-read-timeout]: Invalid value: "0"`);
    expect(text).toContain(`${head}data[proxy-body-size]: Invalid value: "10x": "client_max_body_size" directive invalid value`);
    expect(text).toContain('abc is not a valid http code: strconv.Atoi: parsing "abc": invalid syntax');
    expect(text).toContain('error code 200 is not valid for custom error pages');
    expect(text).toContain(`${head}data[hsts-max-age]`);
  });

  it('is found under the name and namespace the chart values give it', () => {
    const config = buildConfig({ ingress: { releaseName: 'edge', namespace: 'web' } });
    const yaml = CM('  hsts: "nope"').replace(
      'name: ingress-nginx-controller, namespace: ingress-nginx',
      'name: edge-ingress-nginx-controller, namespace: web',
    );
    expect(errorsOf(yaml, config)).toContain('data[hsts]');
    // The default name in another namespace is just a ConfigMap.
    expect(errorsOf(CM('  hsts: "nope"'), config)).toBe('');
  });

  it("lets the AKS tutorial's regex paths under pathType Prefix through with strict-validate-path-type false", () => {
    expect(errorsOf(TUTORIAL_INGRESS)).toContain('cannot be used with pathType Prefix');
    expect(errorsOf(`${TUTORIAL_INGRESS}---\n${CM('  strict-validate-path-type: "false"')}`)).toBe('');
  });

  it('gives every location its defaults; annotations still win', () => {
    const { manifests } = parseManifests([
      { file: 'user.yaml', text: TUTORIAL_INGRESS.replace('    nginx.ingress.kubernetes.io/ssl-redirect: "false"\n', '') },
    ]);
    const { settings } = readControllerConfigMap(configMap({ 'ssl-redirect': 'false', 'proxy-read-timeout': '5', 'custom-http-errors': '503' }));
    const compiled = compileIngress({
      ingresses: manifests.ingresses,
      ingressClasses: [],
      services: [],
      endpoints: [],
      secrets: [],
      locationDefaults: settings,
      controller: settings.traffic,
    });
    const locations = compiled.config.servers.flatMap((s) => s.locations);
    expect(locations.every((l) => !l.sslRedirect && l.proxy.readTimeoutMs === 5000 && l.customHttpErrors.includes(503))).toBe(true);
    expect(compiled.config.controller).toBe(settings.traffic);
  });
});

describe("where the LB's HTTP probe path goes on the default server", () => {
  function compiled(yaml: string) {
    const { manifests } = parseManifests([{ file: 'user.yaml', text: yaml }]);
    return compileIngress({ ingresses: manifests.ingresses, ingressClasses: [], services: [], endpoints: [], secrets: [] }).config;
  }

  it("reaches the controller's /healthz when the default server has no regex location", () => {
    expect(routeProbePath(compiled(''), '/healthz')).toEqual({ kind: 'healthz' });
    expect(routeProbePath(compiled(''), '/').kind).toBe('default-backend');
  });

  it('goes to the regex location that takes it: the default backend (404), or a Service', () => {
    const only = tutorialIngress(false);
    expect(routeProbePath(compiled(only), '/healthz')).toMatchObject({ kind: 'default-backend', how: 'regex ^/ (case-insensitive)' });
    expect(routeProbePath(compiled(TUTORIAL_INGRESS), '/healthz')).toMatchObject({
      kind: 'service',
      how: 'regex ^/(.*) (case-insensitive)',
      upstream: 'default-aks-helloworld-one-80',
    });
  });
});

describe('the start-up notice about the LB probes of the controller Services', () => {
  function notices(config: ConfigInput, yaml: string): string[] {
    const s = new ClusterState({
      config: buildConfig({ nodes: ['node-0', 'node-1'], ...config }),
      manifests: parseManifests([{ file: 'user.yaml', text: yaml }]).manifests,
      random: () => 0,
      nodesReportAtStart: true,
      onChange: () => {},
      log: () => {},
    });
    return [...(s.build().ingress?.notices ?? [])].filter((n) => n.includes('LB health probes'));
  }
  const internal = { enabled: true, annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } };

  it('is silent when the probes reach the default server /healthz', () => {
    expect(notices({}, '')).toEqual([]);
  });

  it("says the internal Service's probes of / get the default backend's 404 (no probe-path annotation)", () => {
    const [line, ...rest] = notices({ ingress: { values: { controller: { service: { internal } } } } }, '');
    expect(rest).toEqual([]);
    expect(line).toContain("Service ingress-nginx/ingress-nginx-controller-internal: its LB health probes (HTTP/HTTPS GET / on each node's NodePort");
    expect(line).toContain('sends / to the default backend');
    expect(line).toContain('404, so every node fails the probe');
    expect(line).toContain('azure-load-balancer-health-probe-request-path: /healthz');
  });

  it('is silent for externalTrafficPolicy Local (kube-proxy answers the probes) and for TCP probes', () => {
    const local = { ...internal, externalTrafficPolicy: 'Local' };
    expect(notices({ ingress: { values: { controller: { service: { internal: local } } } } }, '')).toEqual([]);
    expect(notices({ ingress: { values: { controller: { service: { internal: { ...internal, appProtocol: false } } } } } }, '')).toEqual([]);
  });

  it('names the host-less regex Ingress that takes /healthz', () => {
    const [line] = notices({}, `${tutorialIngress(false)}---\n${CM('  strict-validate-path-type: "false"')}`);
    expect(line).toContain('Service ingress-nginx/ingress-nginx-controller: its LB health probes');
    expect(line).toContain(
      'sends /healthz to the default backend (matched by regex ^/ (case-insensitive); rules without a host are regex locations because of Ingress default/hello-world-ingress)',
    );
    expect(line).toContain('Give those Ingresses a host');
  });
});
