/**
 * Calling a Service by name from a local Node.js process, without root and without
 * touching /etc/hosts: NODE_OPTIONS gets `--require` of a small preload that
 *  - answers dns.lookup (and so http, fetch, net) for `svc`, `svc.ns`, `svc.ns.svc` and
 *    `svc.ns.svc.cluster.local`, and a headless Service's pods (`mongo-0.mongo`, ...), from
 *    a table aks-emu writes and rewrites as endpoints change (the cluster DNS records of
 *    the pod's namespace search list), and
 *  - binds the source of connections to 127/8 addresses (ClusterIPs, pod IPs) to the
 *    pod's IP, since aks-emu treats 127.0.0.1 as outside the cluster and resets it at a
 *    ClusterIP, and a pod's traffic comes from its pod IP on AKS too.
 * Other runtimes get the Service environment variables only (docs/workloads.md).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRecord } from '../../cluster/dns.js';

const PRELOAD = String.raw`'use strict';
const fs = require('fs');
const dns = require('dns');
const net = require('net');
const podIP = process.env.AKS_EMU_POD_IP;
const hostsFile = process.env.AKS_EMU_HOSTS;
let table = {};
let stamp = -1;
function lookupName(host) {
  if (typeof host !== 'string' || !hostsFile) return undefined;
  try {
    const st = fs.statSync(hostsFile);
    // The file is replaced by a rename: a new inode, whatever the clock's granularity says of mtime.
    const id = st.ino + ':' + st.mtimeMs + ':' + st.size;
    if (id !== stamp) { table = JSON.parse(fs.readFileSync(hostsFile, 'utf8')); stamp = id; }
  } catch (err) {
    if (stamp === -1) process.emitWarning('aks-emu: cannot read ' + hostsFile + ': ' + err.message);
  }
  return table[host.toLowerCase().replace(/\.$/, '')];
}
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  const ip = lookupName(hostname);
  if (ip === undefined) return lookup.apply(this, arguments);
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  options = options || {};
  process.nextTick(() => (options.all ? callback(null, [{ address: ip, family: 4 }]) : callback(null, ip, 4)));
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = function (hostname, options) {
  const ip = lookupName(hostname);
  if (ip === undefined) return lookupPromise.apply(this, arguments);
  return Promise.resolve(options && options.all ? [{ address: ip, family: 4 }] : { address: ip, family: 4 });
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let options = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof options === 'number' || (typeof options === 'string' && /^\d+$/.test(options))) {
    options = { port: Number(options), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    args = [options, ...args.slice(typeof args[1] === 'string' ? 2 : 1)];
  }
  // node:http passes path: null for TCP; only a string path is an IPC socket.
  if (options && typeof options === 'object' && options.path == null) {
    const ip = lookupName(options.host);
    if (ip !== undefined) options.host = ip;
    if (podIP && options.localAddress == null && typeof options.host === 'string' && options.host.startsWith('127.') && options.host !== podIP) options.localAddress = podIP;
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

/** The preload's path (written once per aks-emu process). */
export function preloadPath(): string {
  const path = join(workDir(), 'preload.cjs');
  writeFileSync(path, PRELOAD);
  return path;
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
