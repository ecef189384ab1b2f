/**
 * The Azure LB health prober: every probe × every node of the backend pool, one attempt
 * per intervalInSeconds (× timeScale). An attempt still unanswered when the next one is
 * due has failed. A node goes down after numberOfProbes consecutive failures and comes
 * back after numberOfProbes consecutive successes (load-balancer-custom-probe-overview).
 *
 * A node's state starts unknown (`settled: false`) and new flows may reach it meanwhile:
 * AKS registers a node in the backend pool as it joins and Azure starts probing it;
 * keeping it out would only make every start wait for probes. The first numberOfProbes
 * consecutive results settle it: successes leave it up without a transition, failures take
 * it down with a transition `from: 'unknown'`, which is the first answer, not a change, so
 * callers that print changes can leave it out. A node that is really unreachable is taken
 * out after numberOfProbes intervals, as in Azure.
 *
 * Each attempt first asks the data plane what its connection would meet (probe-answer.ts);
 * where this process decides that in full, the answer is taken without a socket.
 */
import type { LoadBalancerProbe, Snapshot } from '../../cluster/snapshot.js';
import { backendNode, type BackendNode } from '../balance/distribution.js';
import type { Clock, TimerHandle } from '../clock.js';
import { ProbeCheck, statusVerdict, TCP_HANDSHAKE_COMPLETED } from './probe-check.js';
import type { ProbeAnswer } from './probe-answer.js';
import type { FaultHolder } from '../../faults/compile.js';

/** Azure's probe source 168.63.129.16, moved into 127/8 like the rest of the embedded cluster. */
export const DEFAULT_PROBE_SOURCE = '127.63.129.16';

/**
 * The shortest scaled probe interval. An attempt still unanswered at the next interval is
 * cancelled; at timeScale 1/600 a 5 s interval is 8 ms, shorter than a TLS handshake on a
 * busy loop, so every HTTPS probe would fail and leave half-closed flows behind it.
 */
export const MIN_PROBE_INTERVAL_MS = 100;

/**
 * The most probe attempts a second the prober starts, over all targets. An attempt may be a
 * connection to a node's listener in this process; at timeScale 0.01 the 100 ms floor made
 * 1,000 Services (500 LB rules × 13 nodes) ask for 65,000 a second, far more than one core
 * can make while it also serves traffic. Past this rate every interval is stretched alike
 * (a longer floor, as MIN_PROBE_INTERVAL_MS is one) and first attempts are spread over the
 * interval, not all in the same millisecond. At real timings (5 s) it takes 5,000 targets
 * to reach it.
 */
export const MAX_PROBES_PER_SECOND = 1000;

export type ProbeState = 'up' | 'down';

export interface ProbeStatus {
  readonly loadBalancer: string;
  readonly probe: string;
  readonly node: string;
  readonly state: ProbeState;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  readonly lastResult: 'none' | 'success' | 'failure';
  /** Why the last attempt passed or failed: `HTTP 503`, `ECONNREFUSED`, `timed out`. */
  readonly lastDetail: string;
  /** Clock time of the last transition (or of the first sight of the node). */
  readonly lastChange: number;
  /** Attempts with a result so far. */
  readonly probes: number;
  /** False while the state is unknown: fewer than numberOfProbes consecutive results of one kind so far. */
  readonly settled: boolean;
  /** An attempt is out and its answer not in yet. */
  readonly attempting: boolean;
}

export interface ProbeTransition {
  readonly loadBalancer: string;
  readonly probe: string;
  readonly node: string;
  readonly state: ProbeState;
  /** The state before: `unknown` when this is the node's first settled state. */
  readonly from: ProbeState | 'unknown';
  readonly detail: string;
  readonly at: number;
}

/** The nodes of a backend pool a probe currently lets new flows reach, in pool order. */
export class BackendSet {
  constructor(public healthy: readonly BackendNode[]) {}
}

/** What a probe's connection would meet now, asked before a socket is opened (probe-answer.ts). */
export type ProbeAnswerer = (node: BackendNode, probe: LoadBalancerProbe) => ProbeAnswer;

/** How the attempts so far were answered. */
export interface ProbeAnswerCounts {
  readonly inProcess: number;
  readonly socket: number;
}

/** An attempt out: a socket's, or an answer decided in process and not yet delivered. */
interface Attempt {
  cancel(): void;
}

function verdictOf(answer: Exclude<ProbeAnswer, { kind: 'needs-socket' }>): { readonly ok: boolean; readonly detail: string } {
  return answer.kind === 'accepted' ? { ok: true, detail: TCP_HANDSHAKE_COMPLETED } : statusVerdict(String(answer.status));
}

const ALWAYS_SOCKET: ProbeAnswerer = () => ({ kind: 'needs-socket', reason: 'off' });

class ProbeTarget {
  state: ProbeState = 'up';
  settled = false;
  successes = 0;
  failures = 0;
  lastResult: ProbeStatus['lastResult'] = 'none';
  lastDetail = '';
  probes = 0;
  timer: TimerHandle | undefined;
  check: Attempt | undefined;

  constructor(
    readonly loadBalancer: string,
    readonly node: BackendNode,
    public probe: LoadBalancerProbe,
    public lastChange: number,
  ) {}
}

/**
 * An answer decided in process, delivered when the socket path's would arrive: not within
 * the attempt's timer callback but after the event loop's next poll for I/O, where a
 * loopback handshake or an HTTP status line is read (setImmediate). Until then the attempt
 * is out, as a socket's is.
 */
class InProcessAttempt implements Attempt {
  constructor(
    readonly target: ProbeTarget,
    readonly ok: boolean,
    readonly detail: string,
  ) {}

  /** Nothing to close: whoever cancels also clears target.check, and delivery skips an attempt that is no longer its target's. */
  cancel(): void {}
}

interface ProbeGroup {
  readonly set: BackendSet;
  members: ProbeTarget[];
}

/**
 * Milliseconds until a target's next attempt: its interval × timeScale, floored at
 * MIN_PROBE_INTERVAL_MS and at what keeps `targets` under MAX_PROBES_PER_SECOND. `firstOf`
 * (the target's creation number) marks a first attempt: when the rate limit stretched the
 * interval it lands within it, along the golden-ratio sequence (evenly, deterministically).
 */
export function probeDelayMs(intervalInSeconds: number, timeScale: number, targets: number, firstOf?: number): number {
  const scaledMs = Math.max(MIN_PROBE_INTERVAL_MS, intervalInSeconds * 1000 * timeScale);
  const budgetMs = (targets * 1000) / MAX_PROBES_PER_SECOND;
  if (budgetMs <= scaledMs) return scaledMs;
  return firstOf === undefined ? budgetMs : budgetMs * (1 - ((firstOf * 0.6180339887) % 1));
}

export class Prober {
  private readonly targets = new Map<string, ProbeTarget>();
  private readonly groups = new Map<string, ProbeGroup>();
  private timeScale = 1;
  /** Targets created so far: the spread of first attempts (see MAX_PROBES_PER_SECOND). */
  private created = 0;
  /** In-process answers waiting for the next check phase, delivered by one setImmediate. */
  private undelivered: InProcessAttempt[] = [];
  private answeredInProcess = 0;
  private answeredBySocket = 0;

  constructor(
    private readonly clock: Clock,
    /** Local address probes are sent from; undefined lets the OS choose. */
    private readonly source: string | undefined,
    private readonly onTransition: (transition: ProbeTransition) => void,
    /** A node fault (fail-probes, drain, partition) fails every probe of the node. */
    private readonly faults: FaultHolder = { table: undefined },
    /** A node's first numberOfProbes successes settle it up without a transition; waiters hear it here. */
    private readonly onSettled: () => void = () => {},
    /** Asked before each attempt: an answer other than needs-socket is taken without a socket. */
    private readonly answer: ProbeAnswerer = ALWAYS_SOCKET,
  ) {}

  /** Probe what the snapshot's load balancers declare; keep the state of what stays. */
  update(snapshot: Snapshot): void {
    const rescale = snapshot.settings.timeScale !== this.timeScale;
    this.timeScale = snapshot.settings.timeScale;
    const addresses = new Map(snapshot.nodes.map((node) => [node.name, node.address]));
    const seenTargets = new Set<string>();
    const seenGroups = new Set<string>();
    const added: ProbeTarget[] = [];
    for (const lb of snapshot.loadBalancers) {
      for (const probe of lb.probes) {
        const groupKey = `${lb.name}/${probe.name}`;
        seenGroups.add(groupKey);
        const members: ProbeTarget[] = [];
        for (const name of lb.backendPool) {
          const address = addresses.get(name);
          if (address === undefined) continue;
          const key = `${groupKey}/${name}`;
          seenTargets.add(key);
          members.push(this.target(key, lb.name, backendNode(name, address), probe, rescale, added));
        }
        const group = this.groups.get(groupKey);
        if (group === undefined) this.groups.set(groupKey, { set: new BackendSet([]), members });
        else group.members = members;
        this.refresh(groupKey);
      }
    }
    for (const [key, target] of this.targets) {
      if (!seenTargets.has(key)) {
        this.halt(target);
        this.targets.delete(key);
      }
    }
    for (const key of this.groups.keys()) if (!seenGroups.has(key)) this.groups.delete(key);
    // Scheduled once the target count is known, which sets the interval.
    for (const target of added) this.schedule(target, true);
  }

  /** The live set of healthy nodes for a probe; the same object across updates. */
  backends(loadBalancer: string, probe: string): BackendSet | undefined {
    return this.groups.get(`${loadBalancer}/${probe}`)?.set;
  }

  status(): ProbeStatus[] {
    return [...this.targets.values()].map((t) => ({
      loadBalancer: t.loadBalancer,
      probe: t.probe.name,
      node: t.node.name,
      state: t.state,
      consecutiveSuccesses: t.successes,
      consecutiveFailures: t.failures,
      lastResult: t.lastResult,
      lastDetail: t.lastDetail,
      lastChange: t.lastChange,
      probes: t.probes,
      settled: t.settled,
      attempting: t.check !== undefined,
    }));
  }

  answers(): ProbeAnswerCounts {
    return { inProcess: this.answeredInProcess, socket: this.answeredBySocket };
  }

  stop(): void {
    for (const target of this.targets.values()) this.halt(target);
    this.targets.clear();
    this.groups.clear();
  }

  private target(key: string, lb: string, node: BackendNode, probe: LoadBalancerProbe, rescale: boolean, added: ProbeTarget[]): ProbeTarget {
    const existing = this.targets.get(key);
    if (existing !== undefined) {
      const retime = rescale || existing.probe.intervalInSeconds !== probe.intervalInSeconds;
      existing.probe = probe;
      if (retime) {
        this.halt(existing);
        this.schedule(existing);
      }
      return existing;
    }
    const target = new ProbeTarget(lb, node, probe, this.clock.now());
    this.targets.set(key, target);
    added.push(target);
    return target;
  }

  /** The next attempt an interval from now; a first one, when the rate limit stretched the interval, somewhere within it. */
  private schedule(target: ProbeTarget, first = false): void {
    const delayMs = probeDelayMs(target.probe.intervalInSeconds, this.timeScale, this.targets.size, first ? this.created++ : undefined);
    target.timer = this.clock.setTimeout(() => this.attempt(target), delayMs);
  }

  private attempt(target: ProbeTarget): void {
    if (target.check !== undefined) {
      target.check.cancel();
      target.check = undefined;
      this.record(target, false, 'timed out');
    }
    const fault = this.faults.table?.nodes.get(target.node.name)?.probes;
    if (fault !== undefined) {
      fault.state.fire();
      this.record(target, false, fault.spec.type === 'partition' ? 'timed out' : `${fault.spec.type} (${fault.id})`);
      this.schedule(target);
      return;
    }
    const answer = this.answer(target.node, target.probe);
    if (answer.kind === 'needs-socket') {
      this.answeredBySocket++;
      const check = new ProbeCheck(target.probe, target.node.address, this.source, (ok, detail) => {
        if (target.check !== check) return;
        target.check = undefined;
        this.record(target, ok, detail);
      });
      target.check = check;
    } else {
      this.answeredInProcess++;
      const { ok, detail } = verdictOf(answer);
      const check = new InProcessAttempt(target, ok, detail);
      target.check = check;
      if (this.undelivered.push(check) === 1) setImmediate(this.deliver);
    }
    this.schedule(target);
  }

  private readonly deliver = (): void => {
    const attempts = this.undelivered;
    this.undelivered = [];
    for (const attempt of attempts) {
      const { target } = attempt;
      if (target.check !== attempt) continue;
      target.check = undefined;
      this.record(target, attempt.ok, attempt.detail);
    }
  };

  private record(target: ProbeTarget, ok: boolean, detail: string): void {
    target.probes++;
    target.lastResult = ok ? 'success' : 'failure';
    target.lastDetail = detail;
    if (ok) {
      target.successes++;
      target.failures = 0;
    } else {
      target.failures++;
      target.successes = 0;
    }
    const threshold = target.probe.numberOfProbes;
    const from = target.settled ? target.state : 'unknown';
    if (!target.settled && target.successes >= threshold) {
      target.settled = true;
      if (target.state === 'up') this.onSettled();
    }
    const next: ProbeState | undefined =
      target.state === 'up' && target.failures >= threshold ? 'down' : target.state === 'down' && target.successes >= threshold ? 'up' : undefined;
    if (next === undefined) return;
    target.settled = true;
    target.state = next;
    target.lastChange = this.clock.now();
    this.refresh(`${target.loadBalancer}/${target.probe.name}`);
    this.onTransition({
      loadBalancer: target.loadBalancer,
      probe: target.probe.name,
      node: target.node.name,
      state: next,
      from,
      detail,
      at: target.lastChange,
    });
  }

  private refresh(groupKey: string): void {
    const group = this.groups.get(groupKey);
    if (group === undefined) return;
    group.set.healthy = group.members.filter((t) => t.state === 'up').map((t) => t.node);
  }

  private halt(target: ProbeTarget): void {
    if (target.timer !== undefined) this.clock.clearTimeout(target.timer);
    target.timer = undefined;
    target.check?.cancel();
    target.check = undefined;
  }
}
