import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { kubectl, kubectlAvailable, kubectlOk, tempKubeconfig } from '../helpers/kubectl.js';

describe.runIf(kubectlAvailable())('kubectl explain and the typed create generators', () => {
  let cluster: Cluster;
  let config: string;
  const k = (...args: string[]) => kubectl(config, args);
  const ok = (...args: string[]) => kubectlOk(config)(...args);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: '', config: { addresses: addressBlock(30), ingress: { enabled: false } }, timeScale: 1 / 50 });
    config = tempKubeconfig(cluster.adminUrl!, cluster.adminToken!);
  });
  afterAll(() => cluster?.stop());

  it('explains Service ports with types and descriptions', async () => {
    const out = await ok('explain', 'svc.spec.ports');
    expect(out).toMatch(/KIND:\s+Service/);
    expect(out).toMatch(/FIELD: ports <\[\]ServicePort>/);
    expect(out).toContain('The list of ports that are exposed by this service.');
    expect(out).toMatch(/port\s+<integer> -required-\n\s+The port that will be exposed by this service\./);
    expect(out).toMatch(/targetPort\s+<string>\n\s+Number or name of the port to access on the pods targeted by the service\./);
  });

  it("explains a Deployment's container ports, deep in the pod template", async () => {
    const out = await ok('explain', 'deployment.spec.template.spec.containers.ports');
    expect(out).toMatch(/GROUP:\s+apps/);
    expect(out).toMatch(/containerPort\s+<integer> -required-\n\s+Number of port to expose on the pod's IP address\./);
    expect(out).toMatch(/protocol\s+<string>\n\s+Protocol for port\. Must be UDP, TCP, or SCTP\./);
  });

  it('explains Ingress rules and every other served kind', async () => {
    const out = await ok('explain', 'ingress.spec.rules.http.paths.backend.service');
    expect(out).toMatch(/GROUP:\s+networking\.k8s\.io/);
    expect(out).toMatch(/name\s+<string> -required-\n\s+name is the referenced service\./);
    for (const kind of [
      'pods',
      'deployments',
      'services',
      'endpoints',
      'endpointslices',
      'ingresses',
      'ingressclasses',
      'configmaps',
      'secrets',
      'nodes',
      'namespaces',
      'replicasets',
      'statefulsets',
      'daemonsets',
      'events',
    ]) {
      const r = await ok('explain', `${kind}.metadata.labels`);
      expect(r, kind).toContain('Map of string keys and values that can be used to organize and categorize');
    }
  });

  it('creates a namespace, a configmap, a secret and a deployment from the generators (protobuf), and the pods become Ready', async () => {
    expect(await ok('create', 'namespace', 'team-a')).toContain('namespace/team-a created');
    expect(await ok('get', 'ns', 'team-a', '-o', 'name')).toBe('namespace/team-a\n');
    expect(await ok('create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=a=b', '--from-literal=empty=')).toContain('configmap/settings created');
    expect(JSON.parse(await ok('get', 'cm', 'settings', '-n', 'team-a', '-o', 'jsonpath={.data}'))).toEqual({ a: 'b', empty: '' });
    expect(await ok('create', 'secret', 'generic', 'creds', '--from-literal=user=admin')).toContain('secret/creds created');
    expect(Buffer.from(await ok('get', 'secret', 'creds', '-o', 'jsonpath={.data.user}'), 'base64').toString()).toBe('admin');

    expect(await ok('create', 'deployment', 'web', '--image=example/web:1', '--replicas=2', '--port=8080')).toContain('deployment.apps/web created');
    const spec = JSON.parse(await ok('get', 'deploy', 'web', '-o', 'jsonpath={.spec}')) as Record<string, unknown>;
    expect(spec).toMatchObject({
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'example/web:1', ports: [{ containerPort: 8080 }] }] } },
    });
    // What the generator sends as protobuf is what it would send as JSON.
    const sent = JSON.parse(await ok('create', 'deployment', 'web', '--image=example/web:1', '--replicas=2', '--port=8080', '--dry-run=client', '-o', 'json'));
    delete sent.spec.template.metadata.creationTimestamp; // null in Go's JSON, absent from the protobuf
    expect(spec).toMatchObject(sent.spec);
    await ok('wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s');
    expect(cluster.pods({ app: 'web' })).toHaveLength(2);
    expect((await k('create', 'namespace', 'team-a')).stderr).toContain('AlreadyExists');
  });

  it('creates Services from the generators, as the JSON they would send', async () => {
    for (const args of [
      ['clusterip', 'plain', '--tcp=80:8080'],
      ['nodeport', 'np', '--tcp=80:http', '--node-port=30080'],
      ['loadbalancer', 'lb', '--tcp=443:8443,80:8080'],
      ['externalname', 'ext', '--external-name=example.com'],
    ]) {
      expect(await ok('create', 'service', ...args)).toContain(`service/${args[1]} created`);
      const sent = JSON.parse(await ok('create', 'service', ...args, '--dry-run=client', '-o', 'json'));
      const stored = JSON.parse(await ok('get', 'svc', args[1]!, '-o', 'json'));
      expect(stored.spec).toMatchObject(sent.spec);
    }
    expect(await ok('get', 'svc', 'np', '-o', 'jsonpath={.spec.ports[0].nodePort}')).toBe('30080');
    expect(await ok('get', 'svc', 'lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).toMatch(/^127\./);
  });

  it('validates fields as the API server does: kubectl apply (Strict) refuses an unknown field, --validate=warn warns', async () => {
    const typo = 'apiVersion: v1\nkind: Service\nmetadata: { name: typo }\nspec:\n  ports: [{ port: 80, tragetPort: 8080 }]\n';
    const strict = await kubectl(config, ['apply', '-f', '-'], typo);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].tragetPort"');
    expect((await k('get', 'svc', 'typo')).stderr).toContain('not found');
    const warn = await kubectl(config, ['apply', '--validate=warn', '-f', '-'], typo);
    expect(warn.stderr).toContain('Warning: unknown field "spec.ports[0].tragetPort"');
    expect(warn.stdout).toContain('service/typo created');
  });

  it('answers a protobuf body that is not the Kubernetes envelope with a 400', async () => {
    const res = await fetch(`${cluster.adminUrl}/api/v1/namespaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
      body: '{"kind":"Namespace"}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('Kubernetes protobuf magic');
  });
});
