/**
 * The container pod kind against the real Docker engine, without compose: a Docker network
 * stands in for a node's pod network (the host's bridge address plays the node, so the test
 * reaches the pod IP directly), and the pods run the suite's pod image.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PodInfo } from '../../../src/cluster/snapshot.js';
import type { ContainerStatusInfo } from '../../../src/cluster/snapshot.js';
import { ContainerPod, type ContainerLaunch, type ContainerPodOptions } from '../../../src/pods/container-pod.js';
import { DockerEngine } from '../../../src/runtime/container/docker-engine.js';
import { podResolvConf } from '../../../src/runtime/container/toolbox.js';
import { pod as podInfo } from '../../pods/pod-fixture.js';
import { LOCAL_BASE_IMAGE, describeWithDocker, docker } from '../docker-available.js';
import { ensurePodImage } from '../pod-image.js';

const RUN = randomBytes(3).toString('hex');
const NETWORK = `aks-emu-test-pods-${RUN}`;
const SUBNET = '10.244.250.0/24';
const HOST = '10.244.250.254';
const GATEWAY = '10.244.250.1';

interface EnvReply {
  env: Record<string, string>;
  hostname: string;
  argv: string[];
  resolvConf: string;
}

describeWithDocker('the container pod kind on a Docker network', () => {
  const engine = new DockerEngine();
  const pods: ContainerPod[] = [];
  let image: string;

  const until = async <T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await Promise.resolve(check()).catch(() => undefined);
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const start = async (info: PodInfo, containers: ContainerLaunch[], extra: Partial<ContainerPodOptions> = {}): Promise<ContainerPod> => {
    const pod = new ContainerPod(info, {
      ...extra,
      engine,
      containers,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 2,
      sandboxImage: LOCAL_BASE_IMAGE,
      network: NETWORK,
      gateway: GATEWAY,
      resolvConf: podResolvConf('10.0.0.0/16', info.namespace),
      labels: { 'io.aks-emu.test': RUN },
      timeScale: 0.01,
    });
    pods.push(pod);
    await pod.start();
    return pod;
  };
  const state = (pod: ContainerPod): ContainerStatusInfo => pod.containerStatuses()[0]!;
  const get = async <T>(url: string): Promise<T> => (await (await fetch(url, { signal: AbortSignal.timeout(3_000) })).json()) as T;

  beforeAll(async () => {
    image = await ensurePodImage();
    await docker(['network', 'create', '--subnet', SUBNET, '--gateway', HOST, '--ip-range', `${HOST}/32`, NETWORK]);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(pods.map((p) => p.stop()));
    const left = (await docker(['ps', '-aq', '--filter', `label=io.aks-emu.test=${RUN}`])).trim();
    if (left) await docker(['rm', '-f', ...left.split('\n')]);
    await docker(['network', 'rm', NETWORK]).catch(() => undefined);
    await engine.close();
  }, 60_000);

  it('runs the image with Kubernetes command, args, env and resolv.conf on the pod IP, hostname the pod name', async () => {
    const info = podInfo('web-7d9f-abcde', '10.244.250.5', [], { namespace: 'shop' });
    await start(info, [
      {
        name: 'web',
        image,
        command: ['node'],
        args: ['/srv/server.js', '--flag'],
        env: [
          { name: 'PORT', value: '9000' },
          { name: 'GREETING', value: 'hi' },
        ],
        imagePullPolicy: 'IfNotPresent',
      },
    ]);
    const reply = await until('the pod answers on its IP', () => get<EnvReply>('http://10.244.250.5:9000/env'));
    expect(reply.hostname).toBe('web-7d9f-abcde');
    expect(reply.argv).toEqual(['--flag']);
    expect(reply.env).toMatchObject({ PORT: '9000', GREETING: 'hi', HOSTNAME: 'web-7d9f-abcde' });
    expect(reply.resolvConf).toContain('nameserver 10.0.0.10');
    expect(reply.resolvConf).toContain('search shop.svc.cluster.local svc.cluster.local cluster.local');
    expect(state(pods[0]!).state).toHaveProperty('running');
    const routes = await docker(['exec', pods[0]!.containerId('web', false)!, 'ip', 'route']);
    expect(routes).toContain(`default via ${GATEWAY}`);
  });

  it('keeps the log and restarts a killed container with RESTARTS counted, the previous log kept', async () => {
    const pod = pods[0]!;
    await get('http://10.244.250.5:9000/before-kill');
    await until('the request in the log', async () => (await pod.engineLogs('web', false)).join('\n').includes('GET /before-kill from'));
    const first = pod.containerId('web', false)!;
    await docker(['kill', first]);
    await until('a new container running', () => state(pod).restartCount === 1 && 'running' in state(pod).state && pod.containerId('web', false) !== first);
    expect(state(pod).lastState).toMatchObject({ terminated: { exitCode: 137, reason: 'Error' } });
    expect((await pod.engineLogs('web', true)).join('\n')).toContain('GET /before-kill');
    await until('the restarted pod answers', () => get('http://10.244.250.5:9000/after'));
    expect((await pod.engineLogs('web', false)).join('\n')).not.toContain('/before-kill');
  });

  it('shows ErrImagePull, then ImagePullBackOff, for an image that cannot be had', async () => {
    const pod = await start(podInfo('ghost-1', '10.244.250.6', []), [
      { name: 'ghost', image: `127.0.0.1:1/aks-emu-test/no-such-image-${RUN}:1`, env: [], imagePullPolicy: 'IfNotPresent' },
    ]);
    const seen = new Set<string>();
    pod.on('status', () => {
      const s = state(pod).state;
      if ('waiting' in s) seen.add(s.waiting.reason);
    });
    await until('ImagePullBackOff', () => seen.has('ErrImagePull') && seen.has('ImagePullBackOff'));
    const s = state(pod).state;
    expect('waiting' in s && s.waiting.message).toMatch(/aks-emu-test\/no-such-image/);
  });

  it('runs the replacement in place of an image that cannot be had when the config asks for it', async () => {
    const info = podInfo('standin-1', '10.244.250.9', []);
    const pod = await start(info, [{ name: 'standin', image: `127.0.0.1:1/aks-emu-test/no-such-image-${RUN}:1`, env: [], imagePullPolicy: 'IfNotPresent' }], {
      inPlaceOfMissingImage: (launch) => ({ ...launch, image, env: [{ name: 'PORT', value: '8080' }] }),
    });
    const reply = await until('the stand-in answers', () => get<{ pod: string }>('http://10.244.250.9:8080/'));
    expect(reply.pod).toBe('standin-1');
    expect(state(pod).state).toHaveProperty('running');
  });

  it('goes into CrashLoopBackOff when the container exits at once', async () => {
    const pod = await start(podInfo('crash-1', '10.244.250.7', []), [
      { name: 'crash', image, command: ['sh', '-c', 'echo dying; exit 3'], env: [], imagePullPolicy: 'IfNotPresent' },
    ]);
    await until('CrashLoopBackOff', () => {
      const s = state(pod).state;
      return 'waiting' in s && s.waiting.reason === 'CrashLoopBackOff' && state(pod).restartCount >= 2;
    });
    expect(state(pod).lastState).toMatchObject({ terminated: { exitCode: 3, reason: 'Error' } });
  });

  it('restarts a container whose liveness probe fails', async () => {
    const liveness = {
      httpGet: { path: '/healthz', port: 9999, scheme: 'HTTP' as const, httpHeaders: [] },
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 2,
    };
    const info = podInfo('sick-1', '10.244.250.8', [{ name: 'sick', image, ports: [], livenessProbe: liveness }]);
    const pod = await start(info, [{ name: 'sick', image, env: [], imagePullPolicy: 'IfNotPresent' }]);
    await until('a restart after failed liveness probes', () => state(pod).restartCount >= 1);
    expect(state(pod).lastState).toHaveProperty('terminated');
  });

  it('removes every container of a pod on stop', async () => {
    const pod = pods[0]!;
    const id = pod.containerId('web', false)!;
    await pod.stop();
    const left = (await docker(['ps', '-aq', '--filter', `label=io.aks-emu.test=${RUN}`, '--filter', `name=web-7d9f-abcde`])).trim();
    expect(left).toBe('');
    await expect(docker(['inspect', id])).rejects.toThrow(/No such/);
  });
});
