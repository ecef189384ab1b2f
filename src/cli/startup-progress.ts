/**
 * What `aks-emu up` prints while pods and LB probes come up: one progress line when the
 * counts change (at most one a second), instead of a line per probe result; once it
 * serves, one summary of the probes' settled states. Probe transitions are printed after
 * that, as changes of a node that had a state.
 */
import type { Snapshot } from '../cluster/snapshot.js';

export interface ProbeLike {
  readonly state: 'up' | 'down';
  /** False while the state is unknown (fewer than numberOfProbes results of one kind). */
  readonly settled: boolean;
}

export interface StartingCluster {
  readonly snapshot: Snapshot;
  probeStatus(): readonly ProbeLike[];
}

/** `starting: 3/7 pods Ready, 8/12 LB probe results in`. */
export function startupLine(snapshot: Snapshot, probes: readonly ProbeLike[]): string {
  const ready = snapshot.pods.filter((p) => p.ready).length;
  const settled = probes.filter((p) => p.settled).length;
  const probesText = probes.length === 0 ? '' : `, ${settled}/${probes.length} LB probe results in`;
  return `starting: ${ready}/${snapshot.pods.length} pods Ready${probesText}`;
}

/** `LB probes: 10 node(s) up, 2 down, 1 not yet answered (aks-emu get lb)`, or undefined without probes. */
export function probeSummary(probes: readonly ProbeLike[]): string | undefined {
  if (probes.length === 0) return undefined;
  const up = probes.filter((p) => p.settled && p.state === 'up').length;
  const down = probes.filter((p) => p.settled && p.state === 'down').length;
  const unknown = probes.length - up - down;
  const parts = [`${up} up`, ...(down > 0 ? [`${down} down`] : []), ...(unknown > 0 ? [`${unknown} not yet answered`] : [])];
  return `LB probes: ${parts.join(', ')} (node × probe; aks-emu get lb shows each)`;
}

/** Prints the progress line now and whenever it changes, checked every `everyMs`; returns the stop function. */
export function startupProgress(cluster: StartingCluster, out: (line: string) => void, everyMs = 1000): () => void {
  let last = '';
  const tick = (): void => {
    const line = startupLine(cluster.snapshot, cluster.probeStatus());
    if (line === last) return;
    last = line;
    out(line);
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return () => clearInterval(timer);
}
