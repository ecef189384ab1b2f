import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { formatLocatedFieldError, ManifestInvalidError } from '../../src/errors/index.js';
import { parseManifests } from '../../src/manifests/index.js';
import { checkManifests, loadManifestSet } from '../../src/runtime/check.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-emu-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = 'service.beta.kubernetes.io/';
const BAD = `apiVersion: v1
kind: Service
metadata:
  name: one
  annotations:
    ${A}azure-load-balancer-ipv4: 999.1.1.1
    ${A}azure-load-balancer-internal: maybe
    ${A}azure-load-balancer-health-probe-protocol: gopher
    ${A}azure-load-balancer-tcp-idle-timeout: "2"
spec:
  type: LoadBalancer
  clusterIP: 10.1.2.3.4
  selector: {app: a}
  ports:
  - port: 80
    nodePort: 29999
  - port: 0
    name: b
---
apiVersion: v1
kind: Service
metadata:
  name: two
spec:
  type: NodePort
  selector: {app: a}
  ports:
  - port: 80
    nodePort: 29999
---
apiVersion: v1
kind: Service
metadata:
  name: two
spec:
  type: NodePort
  ports:
  - port: 80
    nodePort: 30500
`;

describe('checking a manifest set', () => {
  it('reports validation, allocation and Azure annotation errors in one pass, each once', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, BAD);
    const err = await loadManifestSet([file], defaultConfig()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestInvalidError);
    const at = (doc: number, name: string) => `${file} (document ${doc}): The Service "${name}" is invalid: `;
    expect((err as ManifestInvalidError).errors.map(formatLocatedFieldError)).toEqual([
      `${at(1, 'one')}spec.clusterIPs[0]: Invalid value: "10.1.2.3.4": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
      `${at(1, 'one')}spec.ports[0].name: Required value`,
      `${at(1, 'one')}spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive`,
      `${at(1, 'one')}spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767`,
      `${at(1, 'one')}metadata.annotations[${A}azure-load-balancer-ipv4]: Invalid value: "999.1.1.1": the requested load balancer IP "999.1.1.1" is not a valid IPv4 address`,
      `${at(1, 'one')}metadata.annotations[${A}azure-load-balancer-tcp-idle-timeout]: Invalid value: "2": idle timeout value must be a whole number representing minutes between 4 and 100, actual value: 2`,
      `${at(1, 'one')}metadata.annotations[${A}azure-load-balancer-internal]: Unsupported value: "maybe": supported values: "true", "false"`,
      `${at(1, 'one')}metadata.annotations[${A}azure-load-balancer-health-probe-protocol]: Unsupported value: "gopher": supported values: "tcp", "http", "https"`,
      `${at(2, 'two')}spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767`,
      `${at(3, 'two')}metadata.name: Invalid value: "two": services "two" already exists (also defined in ${file} (document 2))`,
    ]);
  });

  it('prints the same list from aks-emu validate and exits 1', async () => {
    const file = join(dir, 'cli.yaml');
    writeFileSync(file, BAD);
    const out: string[] = [];
    const errors: string[] = [];
    const code = await main(
      ['validate', '-f', file],
      (l) => out.push(l),
      (l) => errors.push(l),
    );
    expect(code).toBe(1);
    const lines = errors.join('\n').split('\n');
    expect(lines).toHaveLength(10);
    expect(lines.filter((l) => l.includes('"one"'))).toHaveLength(8);
  });

  it('starts nothing from a set with one bad document among good ones', async () => {
    const file = join(dir, 'half.yaml');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Service\nmetadata: {name: good}\nspec:\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 80, protocol: QUIC}]\n`,
    );
    await expect(loadManifestSet([file], defaultConfig())).rejects.toBeInstanceOf(ManifestInvalidError);
  });

  it('warns once per workload about pods left Pending, in the scheduler words', () => {
    const { manifests } = parseManifests([
      {
        file: 'web.yaml',
        text: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 5000
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: echo}]
`,
      },
    ]);
    const config = defaultConfig({ ingress: { enabled: false, replicas: 2 } });
    const { errors, warnings, allocation } = checkManifests(manifests, config, () => 0.5);
    expect(errors).toEqual([]);
    expect(Object.values(allocation.pods).filter((p) => p.nodeName !== undefined)).toHaveLength(330);
    expect(warnings).toHaveLength(1);
    // The pods' owner is the Deployment's ReplicaSet, as kubectl describe shows it.
    expect(warnings[0]).toMatch(/^ReplicaSet default\/web-[a-z0-9]+: 4670 of 5000 pods Pending, /);
    expect(warnings[0]!.replace(/^[^,]*, /, '')).toBe(
      'Unschedulable: 0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod. ' +
        '(a node runs at most 110 pods: AKS --max-pods, maxPods in aks-emu.yaml)',
    );
  });
});
