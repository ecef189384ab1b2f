/**
 * Which protocol the echo pod speaks on a port. Kubernetes never says what an app speaks,
 * so the echo pod guesses the way a human reading the manifest would: well-known
 * non-HTTP names and numbers echo bytes; any other port looks at the first bytes.
 */
import type { Container } from '../../model/types.js';

/** `echo`: every byte back. `sniff`: HTTP/1.x if the client opens with a request line, else bytes. */
export type PortMode = 'echo' | 'sniff';

export interface EchoPort {
  readonly port: number;
  readonly mode: PortMode;
}

/**
 * Port names follow Istio's `<protocol>[-<suffix>]` convention (also what the ports of
 * common Helm charts use). gRPC is HTTP/2, which an HTTP/1.1 server cannot answer, so
 * a grpc port echoes bytes: the connection works, the framing is the client's own.
 */
const NON_HTTP_NAMES = new Set(['amqp', 'amqps', 'redis', 'mongo', 'mongodb', 'mysql', 'postgres', 'postgresql', 'kafka', 'memcached', 'tcp', 'grpc']);

const NON_HTTP_NUMBERS = new Set([5672, 6379, 27017, 3306, 5432, 9092, 11211]);

function isNonHttpName(name: string | undefined): boolean {
  if (!name) return false;
  const dash = name.indexOf('-');
  return NON_HTTP_NAMES.has((dash < 0 ? name : name.slice(0, dash)).toLowerCase());
}

/**
 * Every TCP containerPort of every container, once. A pod that declares no ports listens
 * nowhere: Kubernetes does not require declaring ports, and traffic to an undeclared
 * targetPort is refused, just as it is when a real app does not listen there.
 */
export function echoPorts(containers: readonly Container[]): EchoPort[] {
  const modes = new Map<number, PortMode>();
  for (const container of containers) {
    for (const p of container.ports) {
      if (p.protocol !== 'TCP') continue;
      const echo = isNonHttpName(p.name) || NON_HTTP_NUMBERS.has(p.containerPort);
      if (echo || !modes.has(p.containerPort)) modes.set(p.containerPort, echo ? 'echo' : 'sniff');
    }
  }
  return [...modes].map(([port, mode]) => ({ port, mode }));
}

/** RFC 9110 methods and PATCH, each followed by the space of a request line. */
const REQUEST_LINE_STARTS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((m) => Buffer.from(`${m} `, 'latin1'));

/** Longest start: enough bytes to decide for any client. */
export const SNIFF_BYTES = Math.max(...REQUEST_LINE_STARTS.map((b) => b.length));

/** `http` / `bytes` once the first bytes decide, `undecided` while they could still start a request line. */
export function sniff(first: Buffer): 'http' | 'bytes' | 'undecided' {
  let undecided = false;
  for (const start of REQUEST_LINE_STARTS) {
    const n = Math.min(first.length, start.length);
    if (first.compare(start, 0, n, 0, n) !== 0) continue;
    if (n === start.length) return 'http';
    undecided = true;
  }
  return undecided ? 'undecided' : 'bytes';
}
