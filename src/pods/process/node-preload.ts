/**
 * Calling a Service by name from a local Node.js process, without root and without
 * touching /etc/hosts: NODE_OPTIONS gets `--require` of a small preload that
 *  - resolves names (dns.lookup, so http, fetch, net) as a pod's glibc resolver does: real
 *    DNS queries over UDP to the cluster DNS (AKS_EMU_DNS, kube-dns's ClusterIP and port),
 *    sent from the pod's IP, along the pod's search list (`<ns>.svc.cluster.local
 *    svc.cluster.local cluster.local`, ndots 5); each query waits AKS_EMU_DNS_TIMEOUT_MS
 *    (5 s scaled by timeScale) and is sent twice, and a lookup with no reply fails with
 *    EAI_AGAIN, as getaddrinfo reports. A name the cluster DNS does not know (NXDOMAIN for
 *    every candidate) goes to the host's resolver, as CoreDNS forwards it upstream; so
 *    does `localhost`, as /etc/hosts answers it in a pod. NetworkPolicy egress decides the
 *    queries (src/runtime/embedded-dns.ts): a pod denied kube-dns resolves nothing;
 *  - binds the source of connections to 127/8 addresses (ClusterIPs, pod IPs) and to the
 *    cluster's names to the pod's IP, since aks-emu treats 127.0.0.1 as outside the
 *    cluster and resets it at a ClusterIP, and a pod's traffic comes from its pod IP on AKS
 *    too. net.connect fixes its local address before it looks the name up, so which names
 *    are the cluster's is read from a table aks-emu writes per pod (AKS_EMU_HOSTS); the
 *    table chooses the source address only, never an answer.
 * Other runtimes get the Service environment variables only (docs/workloads.md).
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRecord } from '../../cluster/dns.js';

/** glibc's resolver defaults (resolv.conf `options timeout:5 attempts:2`), before timeScale. */
export const RESOLVER_TIMEOUT_MS = 5000;

const PRELOAD = String.raw`'use strict';
const fs = require('fs');
const dns = require('dns');
const dgram = require('dgram');
const net = require('net');
const podIP = process.env.AKS_EMU_POD_IP;
const hostsFile = process.env.AKS_EMU_HOSTS;
const dnsServer = process.env.AKS_EMU_DNS;
const namespace = process.env.AKS_EMU_NAMESPACE || 'default';
const timeoutMs = Number(process.env.AKS_EMU_DNS_TIMEOUT_MS) || 5000;
const ATTEMPTS = 2;
const NDOTS = 5;
let table = {};
let stamp = -1;
function clusterName(host) {
  if (typeof host !== 'string' || !hostsFile) return false;
  try {
    const st = fs.statSync(hostsFile);
    // The file is replaced by a rename: a new inode, whatever the clock's granularity says of mtime.
    const id = st.ino + ':' + st.mtimeMs + ':' + st.size;
    if (id !== stamp) { table = JSON.parse(fs.readFileSync(hostsFile, 'utf8')); stamp = id; }
  } catch (err) {
    if (stamp === -1) process.emitWarning('aks-emu: cannot read ' + hostsFile + ': ' + err.message);
  }
  return table[host.toLowerCase().replace(/\.$/, '')] !== undefined;
}
function queryMessage(id, name) {
  const parts = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const label of name.split('.')) { const b = Buffer.from(label, 'latin1'); parts.push(Buffer.from([b.length]), b); }
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
}
function skipName(m, o) {
  for (;;) {
    const n = m[o];
    if (n === undefined) return -1;
    if (n >= 192) return o + 2;
    if (n === 0) return o + 1;
    o += n + 1;
  }
}
// { rcode, addresses } of an answer to query id, or undefined if it is not one.
function readAnswer(m, id) {
  if (m.length < 12 || m.readUInt16BE(0) !== id || (m[2] & 128) === 0) return undefined;
  const rcode = m[3] & 15;
  const addresses = [];
  let o = skipName(m, 12);
  if (o < 0) return undefined;
  o += 4;
  for (let i = m.readUInt16BE(6); i > 0; i--) {
    o = skipName(m, o);
    if (o < 0 || o + 10 > m.length) return undefined;
    const type = m.readUInt16BE(o), length = m.readUInt16BE(o + 8);
    o += 10;
    if (o + length > m.length) return undefined;
    if (type === 1 && length === 4) addresses.push(m[o] + '.' + m[o + 1] + '.' + m[o + 2] + '.' + m[o + 3]);
    o += length;
  }
  return { rcode, addresses };
}
// One name, A record: resolves { rcode, addresses }, or undefined when every attempt timed out.
function ask(name) {
  const at = dnsServer.lastIndexOf(':');
  const address = dnsServer.slice(0, at), port = Number(dnsServer.slice(at + 1));
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 65536);
    const socket = dgram.createSocket('udp4');
    let attempt = 0, timer, done = false;
    const finish = (result) => { if (done) return; done = true; clearTimeout(timer); socket.close(); resolve(result); };
    const send = () => {
      if (done) return;
      if (attempt++ === ATTEMPTS) return finish(undefined);
      socket.send(queryMessage(id, name), port, address, (err) => { if (err) finish(undefined); });
      timer = setTimeout(send, timeoutMs);
    };
    socket.on('message', (m) => { const answer = readAnswer(m, id); if (answer !== undefined) finish(answer); });
    socket.on('error', () => finish(undefined));
    socket.bind({ address: podIP || '127.0.0.1', port: 0 }, send);
  });
}
function candidates(name) {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const searched = [namespace + '.svc.cluster.local', 'svc.cluster.local', 'cluster.local'].map((d) => name + '.' + d);
  return name.split('.').length - 1 >= NDOTS ? [name].concat(searched) : searched.concat([name]);
}
function lookupError(hostname, code) {
  const err = new Error('getaddrinfo ' + code + ' ' + hostname);
  err.code = code; err.errno = code === 'EAI_AGAIN' ? -3001 : -3008; err.syscall = 'getaddrinfo'; err.hostname = hostname;
  return err;
}
// The pod resolver's answer: addresses, null when the cluster DNS knows no candidate, or an EAI_AGAIN error.
async function resolveInCluster(hostname) {
  const name = hostname.toLowerCase();
  for (const candidate of candidates(name)) {
    const answer = await ask(candidate);
    // glibc stops the search at a timeout: EAI_AGAIN.
    if (answer === undefined) throw lookupError(hostname, 'EAI_AGAIN');
    if (answer.rcode === 0 && answer.addresses.length > 0) return answer.addresses;
  }
  return null;
}
function viaCluster(hostname, options) {
  if (!dnsServer || typeof hostname !== 'string' || hostname === '' || net.isIP(hostname) !== 0) return false;
  if (/^localhost\.?$/i.test(hostname) || /\.localhost\.?$/i.test(hostname)) return false;
  const family = typeof options === 'number' ? options : options && options.family;
  return family !== 6 && family !== 'IPv6';
}
function formatted(addresses, options) {
  return options && options.all ? addresses.map((address) => ({ address, family: 4 })) : { address: addresses[0], family: 4 };
}
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  options = options || {};
  if (!viaCluster(hostname, options)) return lookup.call(this, hostname, options, callback);
  resolveInCluster(hostname).then(
    (addresses) => {
      if (addresses === null) return lookup.call(dns, hostname, options, callback);
      const answer = formatted(addresses, options);
      return options.all ? callback(null, answer) : callback(null, answer.address, 4);
    },
    (err) => callback(err),
  );
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = function (hostname, options) {
  if (typeof options === 'number') options = { family: options };
  if (!viaCluster(hostname, options)) return lookupPromise.apply(this, arguments);
  return resolveInCluster(hostname).then((addresses) => (addresses === null ? lookupPromise.call(dns.promises, hostname, options) : formatted(addresses, options)));
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let options = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof options === 'number' || (typeof options === 'string' && /^\d+$/.test(options))) {
    options = { port: Number(options), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    args = [options, ...args.slice(typeof args[1] === 'string' ? 2 : 1)];
  }
  // node:http passes path: null for TCP; only a string path is an IPC socket.
  if (options && typeof options === 'object' && options.path == null && podIP && options.localAddress == null && typeof options.host === 'string') {
    const loopback = options.host.startsWith('127.') && options.host !== podIP;
    if (loopback || clusterName(options.host)) options.localAddress = podIP;
  }
  return connect.apply(this, args);
};
`;

let dir: string | undefined;

function workDir(): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'aks-emu-'));
    dir = made;
    // Pods' processes are gone by then (stop, or the watchdog); their files go with aks-emu.
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

let preload: string | undefined;

/**
 * The preload's path, written once per aks-emu process and in one rename. Every pod's node
 * reads it at start-up; rewritten in place for each pod started (open with O_TRUNC, then
 * write), a pod starting beside another read it while it was empty and ran without it: its
 * lookups went to the host's resolver (EAI_AGAIN or ENOTFOUND for every cluster name).
 */
export function preloadPath(): string {
  // Written again (the same way) only if something removed the file since.
  if (preload === undefined || !existsSync(preload)) {
    const path = join(workDir(), 'preload.cjs');
    writeFileSync(`${path}.tmp`, PRELOAD);
    renameSync(`${path}.tmp`, path);
    preload = path;
  }
  return preload;
}

/**
 * The names a pod's resolv.conf search list (`<ns>.svc.cluster.local svc.cluster.local
 * cluster.local`) makes resolvable: `x.ns`, `x.ns.svc`, `x.ns.svc.cluster.local` for every
 * record, and `x` for the pod's own namespace, whose search entry comes first (so its
 * `pod.svc` wins over a Service `pod` in a namespace `svc`).
 */
export function serviceNames(records: readonly DnsRecord[], namespace: string): Record<string, string> {
  const names: Record<string, string> = {};
  for (const r of records) {
    for (const name of [`${r.relative}.${r.namespace}`, `${r.relative}.${r.namespace}.svc`, `${r.relative}.${r.namespace}.svc.cluster.local`])
      names[name] = r.address;
  }
  for (const r of records) if (r.namespace === namespace) names[r.relative] = r.address;
  return names;
}

/** Writes (atomically) the name table (JSON) of one pod; returns its path for AKS_EMU_HOSTS. */
export function writeHosts(podKey: string, names: string): string {
  const hostsDir = join(workDir(), 'hosts');
  mkdirSync(hostsDir, { recursive: true });
  const path = join(hostsDir, `${podKey.replace('/', '_')}.json`);
  writeFileSync(`${path}.tmp`, names);
  renameSync(`${path}.tmp`, path);
  return path;
}
