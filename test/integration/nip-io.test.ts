import dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { embeddedAddress } from '../../src/cluster/ip-names.js';
import { startCluster, type Cluster } from '../../src/index.js';
import { addressBlock } from '../helpers/addresses.js';
import { runCurl } from '../helpers/curl.js';
import { webApp } from '../helpers/web-manifests.js';

describe('nip.io and sslip.io names', () => {
  it('read the IPv4 address they embed, in dotted, dashed and hex form, under either domain', () => {
    const cases: [string, string][] = [
      ['127.20.0.1.nip.io', '127.20.0.1'],
      ['app.127.20.0.1.nip.io', '127.20.0.1'],
      ['customer1.app.10.0.0.1.nip.io', '10.0.0.1'],
      ['app-127-20-0-1.nip.io', '127.20.0.1'],
      ['app.127-20-0-1.nip.io', '127.20.0.1'],
      ['127-20-0-1.nip.io', '127.20.0.1'],
      ['magic-127.0.0.1.nip.io', '127.0.0.1'],
      ['app-7f140001.nip.io', '127.20.0.1'],
      ['APP.127.20.0.1.NIP.IO.', '127.20.0.1'],
      ['www.192.168.0.1.sslip.io', '192.168.0.1'],
      ['www-192-168-0-1.sslip.io', '192.168.0.1'],
      ['192-168-0-1.sslip.io', '192.168.0.1'],
    ];
    for (const [host, address] of cases) expect(embeddedAddress(host), host).toBe(address);
  });

  it('leave every other name to cluster DNS, and refuse a nip.io name with no address in it', () => {
    expect(embeddedAddress('web.default.svc.cluster.local')).toBeUndefined();
    expect(embeddedAddress('nip.io.example.com')).toBeUndefined();
    expect(embeddedAddress('notnip.io')).toBeUndefined();
    expect(() => embeddedAddress('app.nip.io')).toThrow(/Could not resolve host: app\.nip\.io \(a nip\.io name ends in the IPv4 address it stands for/);
    expect(() => embeddedAddress('app.300.1.1.1.sslip.io')).toThrow(/sslip\.io name ends in the IPv4 address/);
  });
});

const ranges = addressBlock(23);
/** The first public frontend of the range: the ingress controller's, the only LoadBalancer Service here. */
const INGRESS_IP = ranges.publicFrontends.replace(/0\.0\/16$/, '0.1');
const DASHED = INGRESS_IP.replaceAll('.', '-');

const MANIFESTS = `
${webApp({ containerPorts: '[{ containerPort: 8080 }]', servicePorts: '[{ port: 80, targetPort: 8080 }]' })}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  ingressClassName: nginx
  rules:
    - host: web.${INGRESS_IP}.nip.io
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
    - host: web-${DASHED}.sslip.io
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;

describe('aks-emu curl with a nip.io or sslip.io Ingress host', () => {
  let cluster: Cluster;
  let server: string;

  const run = (args: string[]) => runCurl(server, args);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: MANIFESTS, config: { addresses: ranges }, timeScale: 0.01 });
    server = cluster.adminUrl!;
    expect(cluster.service('ingress-nginx-controller', 'ingress-nginx').info.loadBalancer?.ip).toBe(INGRESS_IP);
    // The LB sends to nodes its probes have found up: wait for every node on the controller's rules.
    await Promise.all(cluster.nodes.map((n) => cluster.waitForProbe(n.name, 'up', { service: 'ingress-nginx/ingress-nginx-controller' })));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await cluster?.stop();
  });

  it('connects to the embedded address with the name as Host, so the Ingress rule matches, and asks no resolver', async () => {
    const lookup = vi.spyOn(dns, 'lookup');
    for (const host of [`web.${INGRESS_IP}.nip.io`, `web-${DASHED}.sslip.io`]) {
      const { code, text } = await run(['-i', `http://${host}/hello`]);
      expect(code, text).toBe(0);
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { pod: string; path: string; host: string };
      expect(body.pod).toMatch(/^web-/);
      expect(body.host).toBe(host);
      expect(body.path).toBe('/hello');
    }
    expect(lookup).not.toHaveBeenCalled();
  });

  it('a nip.io name for an address nothing listens on is refused, not looked up elsewhere', async () => {
    const unused = INGRESS_IP.replace(/\.1$/, '.250');
    const { code, text } = await run([`http://web.${unused}.nip.io/`]);
    expect(code).toBe(7);
    expect(text).toMatch(/Connection refused/);
  });
});
