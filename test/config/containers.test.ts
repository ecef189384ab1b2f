import { describe, expect, it } from 'vitest';

import { buildConfig } from '../../src/config/load.js';
import { parseImageGlobs } from '../../src/config/containers.js';
import { choosePodKind } from '../../src/pods/kinds/index.js';
import { defaultPullPolicy } from '../../src/pods/kinds/container.js';
import type { DesiredPod } from '../../src/cluster/workload-pods.js';

describe('containers configuration (real containers in the container runtime)', () => {
  it('takes image globs and the fallback, with error as the default', () => {
    expect(buildConfig({ containers: { images: ['contoso/*'] } }).containers).toEqual({ images: ['contoso/*'], whenImageUnavailable: 'error' });
    expect(buildConfig({ containers: { images: ['*'], whenImageUnavailable: 'echo' } }).containers?.whenImageUnavailable).toBe('echo');
    expect(buildConfig({}).containers).toBeUndefined();
    expect(parseImageGlobs('contoso/*, 127.0.0.1:1/*  nginx')).toEqual(['contoso/*', '127.0.0.1:1/*', 'nginx']);
  });

  it('names the field of every bad value', () => {
    expect(() => buildConfig({ containers: { images: 'x' } as never })).toThrow(/options: containers\.images: Invalid value: a list of image globs/);
    expect(() => buildConfig({ containers: { images: ['*'], whenImageUnavailable: 'pull' } })).toThrow(
      /containers\.whenImageUnavailable: Unsupported value: "pull": supported values: "error", "echo"/,
    );
    expect(() => buildConfig({ containers: { images: ['*'], retries: 3 } as never })).toThrow(/containers\.retries: unknown field/);
  });

  it('defaults imagePullPolicy as Kubernetes does', () => {
    expect(defaultPullPolicy('contoso/api')).toBe('Always');
    expect(defaultPullPolicy('contoso/api:latest')).toBe('Always');
    expect(defaultPullPolicy('registry:5000/contoso/api:1.2')).toBe('IfNotPresent');
    expect(defaultPullPolicy('registry:5000/contoso/api')).toBe('Always');
    expect(defaultPullPolicy('contoso/api@sha256:abc')).toBe('IfNotPresent');
  });

  it('chooses the container kind only when every image of the pod matches, with the pod spec carried', () => {
    const config = buildConfig({ containers: { images: ['contoso/*'] } });
    const pod = (images: string[]): DesiredPod =>
      ({
        namespace: 'shop',
        name: 'web-1',
        annotations: {},
        spec: {
          containers: images.map((image, i) => ({ name: `c${i}`, image, ports: [], command: ['node'], args: ['a.js'] })),
          terminationGracePeriodSeconds: 5,
          restartPolicy: 'OnFailure',
        },
      }) as unknown as DesiredPod;
    const manifests = { secrets: [], configMaps: [] } as never;
    expect(choosePodKind(pod(['contoso/api:1', 'nginx:1']), { config, manifests })).toEqual({ kind: 'echo' });
    expect(choosePodKind(pod(['contoso/api:1']), { config, manifests })).toEqual({
      kind: 'container',
      containers: [{ name: 'c0', image: 'contoso/api:1', imagePullPolicy: 'IfNotPresent', command: ['node'], args: ['a.js'], env: [] }],
      restartPolicy: 'OnFailure',
      terminationGracePeriodSeconds: 5,
      whenImageUnavailable: 'error',
    });
  });
});
