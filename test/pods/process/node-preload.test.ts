import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DnsRecord } from '../../../src/cluster/dns.js';
import { preloadPath, serviceNames, writeHosts } from '../../../src/pods/process/node-preload.js';
import { addressBlock } from '../../helpers/addresses.js';

const run = promisify(execFile);
const ranges = addressBlock(23);
/** A "ClusterIP" and a "pod IP" of this file's block: both loopback addresses. */
const SERVICE_IP = ranges.serviceCIDR.replace(/0\.0\/16$/, '0.20');
const POD_IP = ranges.podCIDR.replace(/0\.0\/16$/, '1.7');

describe('the Node.js preload of process pods', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    // Answers with the source address it saw, as a ClusterIP's pod would.
    server = createServer((req, res) => res.end(JSON.stringify({ remoteAddress: req.socket.remoteAddress })));
    await new Promise<void>((resolve) => server.listen(0, SERVICE_IP, resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('maps names along the search list; a pod of its own namespace wins the short form', () => {
    const records: DnsRecord[] = [
      { namespace: 'vote', relative: 'api', address: '127.10.0.5', kind: 'service' },
      { namespace: 'vote', relative: 'mongo-0.mongo', address: '127.244.1.2', kind: 'pod' },
      { namespace: 'shop', relative: 'web', address: '127.10.0.9', kind: 'service' },
    ];
    expect(serviceNames(records, 'vote')).toEqual({
      api: '127.10.0.5',
      'api.vote': '127.10.0.5',
      'api.vote.svc': '127.10.0.5',
      'api.vote.svc.cluster.local': '127.10.0.5',
      'mongo-0.mongo': '127.244.1.2',
      'mongo-0.mongo.vote': '127.244.1.2',
      'mongo-0.mongo.vote.svc': '127.244.1.2',
      'mongo-0.mongo.vote.svc.cluster.local': '127.244.1.2',
      'web.shop': '127.10.0.9',
      'web.shop.svc': '127.10.0.9',
      'web.shop.svc.cluster.local': '127.10.0.9',
    });
  });

  it('resolves a Service name and sends from the pod IP for node:http (default agent and agent: false) and fetch', async () => {
    const hosts = writeHosts('vote/client', JSON.stringify({ api: SERVICE_IP }));
    const script = `
      const http = require('node:http');
      const get = (agent) => new Promise((resolve, reject) => {
        http.get({ host: 'api', port: ${port}, path: '/x', ...(agent === undefined ? {} : { agent }) }, (res) => {
          let text = ''; res.on('data', (c) => (text += c)); res.on('end', () => resolve(JSON.parse(text).remoteAddress));
        }).on('error', reject);
      });
      (async () => {
        const seen = [await get(undefined), await get(false), (await (await fetch('http://api:${port}/')).json()).remoteAddress];
        console.log(JSON.stringify(seen));
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: { ...process.env, NODE_OPTIONS: `--require ${preloadPath()}`, AKS_EMU_HOSTS: hosts, AKS_EMU_POD_IP: POD_IP },
    });
    expect(JSON.parse(stdout)).toEqual([POD_IP, POD_IP, POD_IP]);
  });
});
