import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DnsRecord } from '../../../src/cluster/dns.js';
import { buildAnswer, parseQuery, RCODE } from '../../../src/dataplane/dns/message.js';
import { preloadPath, serviceNames, writeHosts } from '../../../src/pods/process/node-preload.js';
import { addressBlock } from '../../helpers/addresses.js';

const run = promisify(execFile);
const ranges = addressBlock(23);
/** A "ClusterIP" and a "pod IP" of this file's block: both loopback addresses. */
const SERVICE_IP = ranges.serviceCIDR.replace(/0\.0\/16$/, '0.20');
const POD_IP = ranges.podCIDR.replace(/0\.0\/16$/, '1.7');
/** A stand-in cluster DNS (not .10: a cluster of this block may hold that). */
const DNS_IP = ranges.serviceCIDR.replace(/0\.0\/16$/, '0.11');

/** A DNS server that knows one name, records what it is asked and by whom, and can go silent. */
class FakeDns {
  readonly asked: { name: string; from: string }[] = [];
  silent = false;
  readonly socket: UdpSocket = createSocket('udp4');

  constructor(readonly names: Record<string, string>) {
    this.socket.on('message', (message, remote) => {
      const question = parseQuery(message)!;
      this.asked.push({ name: question.name, from: remote.address });
      if (this.silent) return;
      const address = this.names[question.name];
      const answer = address === undefined ? buildAnswer(question, RCODE.nxDomain, [], 5) : buildAnswer(question, RCODE.noError, [address], 5);
      this.socket.send(answer, remote.port, remote.address);
    });
  }

  start(): Promise<string> {
    return new Promise((resolve) => this.socket.bind(0, DNS_IP, () => resolve(`${DNS_IP}:${this.socket.address().port}`)));
  }
}

describe('the Node.js preload of process pods', () => {
  let server: Server;
  let port: number;
  const dns = new FakeDns({ 'api.vote.svc.cluster.local': SERVICE_IP });
  let dnsServer: string;

  beforeAll(async () => {
    dnsServer = await dns.start();
    // Answers with the source address it saw, as a ClusterIP's pod would.
    server = createServer((req, res) => res.end(JSON.stringify({ remoteAddress: req.socket.remoteAddress })));
    await new Promise<void>((resolve) => server.listen(0, SERVICE_IP, resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    dns.socket.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

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

  it('resolves a Service name by asking the cluster DNS from the pod IP, and connects from it for node:http (default agent and agent: false) and fetch', async () => {
    dns.silent = false;
    dns.asked.length = 0;
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
      env: {
        ...process.env,
        NODE_OPTIONS: `--require ${preloadPath()}`,
        AKS_EMU_HOSTS: hosts,
        AKS_EMU_POD_IP: POD_IP,
        AKS_EMU_DNS: dnsServer,
        AKS_EMU_NAMESPACE: 'vote',
      },
    });
    expect(JSON.parse(stdout)).toEqual([POD_IP, POD_IP, POD_IP]);
    // The search list's first entry answers: one query per lookup, each from the pod's IP.
    expect(dns.asked.length).toBeGreaterThanOrEqual(3);
    expect(new Set(dns.asked.map((q) => `${q.name} from ${q.from}`))).toEqual(new Set([`api.vote.svc.cluster.local from ${POD_IP}`]));
  });

  it('walks the search list in the pod namespace, and fails with EAI_AGAIN after two unanswered attempts, as getaddrinfo does', async () => {
    const script = `
      const dns = require('node:dns');
      const one = (name) => new Promise((resolve) => dns.lookup(name, (err, address) => resolve(err ? err.code : address)));
      (async () => console.log(JSON.stringify([await one('api.vote'), await dns.promises.lookup('api.vote.svc.cluster.local.').then((a) => a.address)])))();`;
    const env = {
      ...process.env,
      NODE_OPTIONS: `--require ${preloadPath()}`,
      AKS_EMU_POD_IP: POD_IP,
      AKS_EMU_DNS: dnsServer,
      AKS_EMU_NAMESPACE: 'shop',
      AKS_EMU_DNS_TIMEOUT_MS: '100',
    };
    dns.silent = false;
    dns.asked.length = 0;
    const { stdout } = await run(process.execPath, ['-e', script], { env });
    expect(JSON.parse(stdout)).toEqual([SERVICE_IP, SERVICE_IP]);
    expect(dns.asked.map((q) => q.name)).toEqual(['api.vote.shop.svc.cluster.local', 'api.vote.svc.cluster.local', 'api.vote.svc.cluster.local']);

    dns.silent = true;
    dns.asked.length = 0;
    const silent = await run(process.execPath, ['-e', script.replace(/, await dns\.promises[^\]]*/, '')], { env });
    expect(JSON.parse(silent.stdout)).toEqual(['EAI_AGAIN']);
    // glibc stops at the first candidate that times out, after its attempts.
    expect(dns.asked.map((q) => q.name)).toEqual(['api.vote.shop.svc.cluster.local', 'api.vote.shop.svc.cluster.local']);
  });

  it('gives a pod that starts while others are started the whole preload, never a file being rewritten', async () => {
    const path = preloadPath();
    const whole = readFileSync(path, 'utf8');
    // A pod's node reads its --require file once at start-up; this child reads it as often as it can.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let bad = 0; console.log('reading'); for (let i = 0; i < 20000; i++) if (fs.readFileSync(process.argv[1], 'utf8').length !== ${whole.length}) bad++; console.log(bad);`,
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    reader.stdout.setEncoding('utf8');
    const reading = new Promise<void>((resolve) => reader.stdout.on('data', (chunk: string) => ((out += chunk), out.includes('reading') && resolve())));
    const exited = new Promise<void>((resolve) => reader.on('exit', () => resolve()));
    await reading;
    let running = true;
    void exited.then(() => (running = false));
    // Meanwhile the cluster starts more pods, each asking for the preload's path.
    while (running) {
      for (let i = 0; i < 20; i++) expect(preloadPath()).toBe(path);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(out.trim().split('\n')).toEqual(['reading', '0']);
    expect(readFileSync(path, 'utf8')).toBe(whole);
  });
});
