import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { validate } from '../../src/cli/commands/validate.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { fieldErrors, load } from '../manifests/helpers.js';

/** The classic guestbook's shape: a v1 ReplicationController with a plain selector map, behind a LoadBalancer. */
const RC = `
apiVersion: v1
kind: ReplicationController
metadata: { name: frontend, labels: { app: guestbook } }
spec:
  replicas: 3
  selector: { app: guestbook, tier: frontend }
  template:
    metadata: { labels: { app: guestbook, tier: frontend } }
    spec:
      containers:
        - name: php-redis
          image: gcr.io/google-samples/gb-frontend:v4
          ports: [{ containerPort: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: frontend }
spec:
  type: LoadBalancer
  selector: { app: guestbook, tier: frontend }
  ports: [{ port: 80 }]
`;

const rc = (spec: object) => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'db' }, spec });
const template = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'redis' }] } };

describe('ReplicationController manifests', () => {
  it('reads replicas, the selector map and the template; the selector defaults to the template labels', () => {
    const [written, defaulted] = load([rc({ replicas: 2, selector: { app: 'db' }, template }), { ...rc({ template }), metadata: { name: 'db2' } }]).manifests
      .workloads;
    expect(written).toMatchObject({ kind: 'ReplicationController', replicas: 2, selector: { app: 'db' }, template: { labels: { app: 'db' } } });
    expect(defaulted).toMatchObject({ kind: 'ReplicationController', replicas: 1, selector: { app: 'db' } });
  });

  it('rejects what ValidateReplicationControllerSpec rejects, in its words', () => {
    expect(fieldErrors([rc({ selector: { app: 'other' }, template })])).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"db"}: selector does not match labels in spec.template',
    ]);
    expect(fieldErrors([rc({ replicas: -1, selector: { app: 'db' } })])).toEqual(
      expect.arrayContaining(['spec.replicas: Invalid value: -1: must be greater than or equal to 0', 'spec.template: Required value']),
    );
    expect(fieldErrors([{ ...rc({ template }), apiVersion: 'apps/v1' }])).toEqual([
      'apiVersion: Invalid value: "apps/v1": no matches for kind "ReplicationController" in version "apps/v1"',
    ]);
  });

  it('validate counts it as a workload, with no notice that it was skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aks-emu-rc-'));
    const file = join(dir, 'rc.yaml');
    writeFileSync(file, RC);
    const lines: string[] = [];
    expect(await validate(['-f', file], (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual(['valid: 1 Service, 1 workload']);
  });
});

describe('a ReplicationController in a running cluster', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ manifests: RC, config: { addresses: addressBlock(23), ingress: { enabled: false } }, timeScale: 0.01 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs its replicas named <rc>-<5 chars>, owned by the ReplicationController', () => {
    const pods = cluster.pods({ tier: 'frontend' });
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.name).toMatch(/^frontend-[a-z0-9]{5}$/);
      expect(pod).toMatchObject({ ownerKind: 'ReplicationController', ownerName: 'frontend', phase: 'Running' });
    }
  });

  it('serves its Service through the LB frontend: every replica answers', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await fetch(cluster.service('frontend').url(), { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      seen.add(((await res.json()) as { pod: string }).pod);
    }
    expect([...seen].sort()).toEqual(
      cluster
        .pods({ tier: 'frontend' })
        .map((p) => p.name)
        .sort(),
    );
  });

  it('takes a ReplicationController created through the Kubernetes API, as kubectl create does', async () => {
    const worker = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'worker', namespace: 'default' },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'worker' } }, spec: { containers: [{ name: 'w', image: 'worker' }] } } },
    };
    const res = await fetch(`${cluster.adminUrl}/api/v1/namespaces/default/replicationcontrollers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(worker),
    });
    expect(res.status).toBe(201);
    expect(cluster.pods({ app: 'worker' }).map((p) => p.ownerName)).toEqual(['worker', 'worker']);
  });

  it('is listed by the Kubernetes API as kubectl get rc reads it', async () => {
    const res = await fetch(`${cluster.adminUrl}/api/v1/namespaces/default/replicationcontrollers/frontend`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; spec: { selector: unknown }; status: { replicas: number; readyReplicas: number } };
    expect(body).toMatchObject({ kind: 'ReplicationController', spec: { selector: { app: 'guestbook', tier: 'frontend' } } });
    expect(body.status).toMatchObject({ replicas: 3, readyReplicas: 3 });
  });
});
