import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controllerChart, ingressControllerObjects } from '../../../src/cluster/ingress/controller-manifests.js';
import { buildConfig } from '../../../src/config/load.js';
import { AksEmuError, formatLocatedFieldError } from '../../../src/errors/index.js';
import { parseManifests } from '../../../src/manifests/index.js';
import { checkManifests } from '../../../src/runtime/check.js';
import type { ConfigInput } from '../../../src/config/load.js';
import { userControllerService } from '../../fixtures/aks-ingress-tutorial.js';

const random = () => 0.5;
const INTERNAL = 'service.beta.kubernetes.io/azure-load-balancer-internal';

/** The AKS "internal ingress" tutorial's Helm values (internal-ingress.yaml plus its --set flags). */
const AKS_INTERNAL: ConfigInput = {
  ingress: {
    namespace: 'ingress-basic',
    values: {
      controller: {
        replicaCount: 2,
        service: {
          loadBalancerIP: '127.224.0.42',
          externalTrafficPolicy: 'Local',
          annotations: {
            'service.beta.kubernetes.io/azure-load-balancer-internal': 'true',
            'service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path': '/healthz',
          },
        },
      },
    },
  },
};

function check(config: ConfigInput, yaml = '') {
  const { manifests } = parseManifests(yaml ? [{ file: 'user.yaml', text: yaml }] : []);
  return checkManifests(manifests, buildConfig(config), random);
}

describe('the controller rendered from the chart values in aks-emu.yaml', () => {
  it('names everything as the chart does: release name, namespace, nameOverride, fullnameOverride, controller.name', () => {
    expect(controllerChart(buildConfig({}).ingress)).toMatchObject({ namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
    const custom = controllerChart(buildConfig({ ingress: { releaseName: 'edge', namespace: 'web' } }).ingress);
    expect(custom).toMatchObject({
      namespace: 'web',
      name: 'edge-ingress-nginx-controller',
      configMap: { namespace: 'web', name: 'edge-ingress-nginx-controller' },
    });
    expect(custom.selector).toEqual({
      'app.kubernetes.io/name': 'ingress-nginx',
      'app.kubernetes.io/instance': 'edge',
      'app.kubernetes.io/component': 'controller',
    });
    const overridden = controllerChart(
      buildConfig({ ingress: { values: { fullnameOverride: 'nginx', namespaceOverride: 'infra', nameOverride: 'ing', controller: { name: 'ctl' } } } }).ingress,
    );
    expect(overridden).toMatchObject({ namespace: 'infra', name: 'nginx-ctl' });
    expect(overridden.selector['app.kubernetes.io/name']).toBe('ing');
    // A release name that contains the chart name is the full name, as the chart's helper says.
    expect(controllerChart(buildConfig({ ingress: { releaseName: 'my-ingress-nginx' } }).ingress).name).toBe('my-ingress-nginx-controller');
  });

  it('labels the pods with podLabels and controller.labels, which NetworkPolicies can select', () => {
    const objects = ingressControllerObjects(
      buildConfig({ ingress: { values: { controller: { podLabels: { team: 'edge' }, labels: { tier: 'front' } } } } }).ingress,
    );
    const [deployment] = objects.workloads;
    expect(deployment?.template.labels).toMatchObject({ team: 'edge', tier: 'front', 'app.kubernetes.io/component': 'controller' });
    expect(deployment?.selector).toEqual(objects.chart.selector);
  });

  it("renders the AKS tutorial's internal Service: annotations, externalTrafficPolicy Local, loadBalancerIP, in its namespace", () => {
    const { effective, errors } = check(AKS_INTERNAL);
    expect(errors).toEqual([]);
    const svc = effective.services.find((s) => s.metadata.name === 'ingress-nginx-controller');
    expect(svc?.metadata.namespace).toBe('ingress-basic');
    expect(svc?.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerIP: '127.224.0.42' });
    expect(svc?.metadata.annotations['service.beta.kubernetes.io/azure-load-balancer-internal']).toBe('true');
    expect(effective.workloads.find((w) => w.metadata.name === 'ingress-nginx-controller')?.replicas).toBe(2);
  });

  it('takes ports, targetPorts, nodePorts, enableHttps, appProtocol and type from controller.service', () => {
    const objects = ingressControllerObjects(
      buildConfig({
        ingress: {
          values: {
            controller: { service: { type: 'NodePort', ports: { http: 8080 }, nodePorts: { http: 30080 }, enableHttps: false, appProtocol: false } },
          },
        },
      }).ingress,
    );
    const [svc] = objects.services;
    expect(svc?.spec.type).toBe('NodePort');
    expect(svc?.spec.ports).toMatchObject([{ name: 'http', port: 8080, targetPort: 'http', nodePort: 30080 }]);
    expect(svc?.spec.ports[0]?.appProtocol).toBeUndefined();
  });

  it('renders the internal Service beside the public one (service.internal), or alone (service.external.enabled false)', () => {
    const internal = { enabled: true, loadBalancerIP: '127.224.0.50', annotations: { [INTERNAL]: 'true' }, ports: { http: 8080 } };
    const both = check({ ingress: { values: { controller: { service: { ports: { https: 8443 }, internal } } } } });
    expect(both.errors).toEqual([]);
    const names = both.effective.services.filter((s) => s.metadata.namespace === 'ingress-nginx').map((s) => s.metadata.name);
    expect(names).toEqual(['ingress-nginx-controller', 'ingress-nginx-controller-internal']);
    const svc = both.effective.services.find((s) => s.metadata.name === 'ingress-nginx-controller-internal')!;
    expect(svc.spec).toMatchObject({ type: 'LoadBalancer', loadBalancerIP: '127.224.0.50' });
    // Its own ports first, the main Service's next; only its own annotations.
    expect(svc.spec.ports.map((p) => p.port)).toEqual([8080, 8443]);
    expect(svc.metadata.annotations).toEqual({ [INTERNAL]: 'true' });
    const alone = check({ ingress: { values: { controller: { service: { external: { enabled: false }, internal } } } } }).effective.services;
    expect(alone.filter((s) => s.metadata.namespace === 'ingress-nginx').map((s) => s.metadata.name)).toEqual(['ingress-nginx-controller-internal']);
    // Without annotations the chart renders no internal Service.
    const bare = check({ ingress: { values: { controller: { service: { internal: { enabled: true } } } } } }).effective.services;
    expect(bare.filter((s) => s.metadata.namespace === 'ingress-nginx')).toHaveLength(1);
  });

  it('reports a value that renders into an invalid Service in Kubernetes words, naming aks-emu.yaml', () => {
    const { errors } = check({ ingress: { values: { controller: { service: { externalTrafficPolicy: 'Locale' } } } } });
    const text = errors.map(formatLocatedFieldError).join('\n');
    expect(text).toContain('<built-in ingress-nginx: aks-emu.yaml ingress>');
    expect(text).toContain(
      'The Service "ingress-nginx-controller" in namespace "ingress-nginx" is invalid: spec.externalTrafficPolicy: Unsupported value: "Locale"',
    );
    // Checked where the cloud provider checks it, as for the user's own Services.
    const ip = check({ ingress: { values: { controller: { service: { loadBalancerIP: 'ten' } } } } })
      .errors.map(formatLocatedFieldError)
      .join('\n');
    expect(ip).toContain('<built-in ingress-nginx: aks-emu.yaml ingress>');
    expect(ip).toContain('loadBalancerIP');
  });

  it('reads values files as helm install -f does, in order, with inline values on top', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aks-emu-values-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // The AKS tutorial's internal-ingress.yaml, then a second file and inline values.
    writeFileSync(
      join(dir, 'internal-ingress.yaml'),
      'controller:\n  service:\n    loadBalancerIP: 127.224.0.42\n    annotations:\n      service.beta.kubernetes.io/azure-load-balancer-internal: "true"\n',
    );
    writeFileSync(join(dir, 'more.yaml'), 'controller:\n  podLabels: { team: edge }\n  service: { externalTrafficPolicy: Local }\n');
    const settings = buildConfig({
      baseDir: dir,
      ingress: { valuesFiles: ['internal-ingress.yaml', 'more.yaml'], values: { controller: { service: { loadBalancerIP: '127.224.0.43' } } } },
    }).ingress;
    const [svc] = ingressControllerObjects(settings).services;
    expect(svc?.spec).toMatchObject({ loadBalancerIP: '127.224.0.43', externalTrafficPolicy: 'Local' });
    expect(svc?.metadata.annotations['service.beta.kubernetes.io/azure-load-balancer-internal']).toBe('true');
    expect(controllerChart(settings).podLabels.team).toBe('edge');
    expect(() => buildConfig({ baseDir: dir, ingress: { valuesFiles: ['missing.yaml'] } })).toThrow(
      /ingress\.valuesFiles\[0\]: Invalid value: "missing.yaml": cannot read it as YAML \(ENOENT\)/,
    );
  });

  it('rejects values of the wrong type and unknown ingress keys, naming the field', () => {
    const bad = () =>
      buildConfig({
        ingress: { replicas: 2, releaseName: 'Bad_Name', values: { controller: { replicaCount: 3, podLabels: 'x', service: { enableHttp: 'yes' } } } },
      } as unknown as ConfigInput);
    expect(bad).toThrow(AksEmuError);
    const message = (() => {
      try {
        bad();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toContain('ingress.releaseName: Invalid value: "Bad_Name"');
    expect(message).toContain('ingress.values.controller.podLabels: Invalid value: expected a mapping');
    expect(message).toContain('ingress.values.controller.service.enableHttp: Invalid value: "yes"');
    expect(message).toContain('ingress.replicas: Invalid value: 2: differs from ingress.values.controller.replicaCount (3)');
    expect(() => buildConfig({ ingress: { replica: 2 } } as unknown as ConfigInput)).toThrow(/ingress\.replica: unknown field/);
  });
});

const USER_SERVICE = userControllerService('ingress-basic', '127.224.0.42');

describe("a user's own controller Service", () => {
  const config: ConfigInput = { ingress: { namespace: 'ingress-basic' } };

  it("takes the built-in one's place: one Service of that name, with the user's UID and settings", () => {
    const { effective, errors, allocation } = check(config, USER_SERVICE);
    expect(errors).toEqual([]);
    const named = effective.services.filter((s) => s.metadata.namespace === 'ingress-basic' && s.metadata.name === 'ingress-nginx-controller');
    expect(named).toHaveLength(1);
    expect(named[0]?.source.file).toBe('user.yaml');
    expect(named[0]?.spec.externalTrafficPolicy).toBe('Local');
    expect(allocation).toBeDefined();
  });

  it('under another name, as a LoadBalancer selecting the controller pods, replaces the built-in one too', () => {
    const yaml = USER_SERVICE.replace('name: ingress-nginx-controller', 'name: internal-ingress').replace(
      /selector:\n(.*\n){3}/,
      'selector:\n    app.kubernetes.io/component: controller\n',
    );
    const { effective, errors } = check(config, yaml);
    expect(errors).toEqual([]);
    expect(effective.services.filter((s) => s.metadata.namespace === 'ingress-basic').map((s) => s.metadata.name)).toEqual(['internal-ingress']);
  });

  it('is an error when it takes the controller Service name without selecting its pods', () => {
    const yaml = USER_SERVICE.replace(/selector:\n(.*\n){3}/, 'selector:\n    app: something-else\n');
    const { errors } = check(config, yaml);
    const text = errors.map(formatLocatedFieldError).join('\n');
    expect(text).toContain('user.yaml (document 1): The Service "ingress-nginx-controller" in namespace "ingress-basic" is invalid: spec.selector');
    expect(text).toContain('exists and cannot be imported into the current release');
  });

  it('is an error for a Deployment with the controller name', () => {
    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
spec:
  selector: { matchLabels: { app: x } }
  template:
    metadata: { labels: { app: x } }
    spec: { containers: [{ name: x, image: x }] }
`;
    const text = check({}, yaml).errors.map(formatLocatedFieldError).join('\n');
    expect(text).toContain('The Deployment "ingress-nginx-controller" in namespace "ingress-nginx" is invalid: metadata.name');
    expect(text).toContain('ingress.enabled: false');
  });

  it('a ClusterIP Service selecting the controller pods is one more Service, not a replacement', () => {
    const yaml = USER_SERVICE.replace('name: ingress-nginx-controller', 'name: metrics')
      .replace('type: LoadBalancer', 'type: ClusterIP')
      .replace(/ {2}externalTrafficPolicy.*\n {2}loadBalancerIP.*\n/, '');
    const { effective, errors } = check(config, yaml.replace(/ {4}service\.beta.*\n/, '').replace(/ {2}annotations:\n/, ''));
    expect(errors).toEqual([]);
    expect(
      effective.services
        .filter((s) => s.metadata.namespace === 'ingress-basic')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['ingress-nginx-controller', 'metrics']);
  });
});
