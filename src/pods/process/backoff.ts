/**
 * kubelet's crash back-off (pkg/kubelet/kuberuntime, flowcontrol.Backoff): the first
 * restart is immediate, then 10 s doubling to 5 min; a container that ran 10 min
 * (twice the maximum) without failing starts again from the beginning. Scaled by timeScale.
 */
export const BACKOFF_INITIAL_S = 10;
export const BACKOFF_MAX_S = 300;
export const BACKOFF_RESET_S = 2 * BACKOFF_MAX_S;

export class CrashBackoff {
  #next = 0;
  constructor(readonly timeScale: number) {}

  /** The delay before the restart after an exit of an instance that ran `ranMs`. */
  delayAfter(ranMs: number): number {
    if (ranMs >= BACKOFF_RESET_S * 1000 * this.timeScale) this.#next = 0;
    const delay = this.#next;
    this.#next = delay === 0 ? BACKOFF_INITIAL_S : Math.min(delay * 2, BACKOFF_MAX_S);
    return delay * 1000 * this.timeScale;
  }

  /** Seconds as kubelet's message says them ("back-off 20s restarting failed container"). */
  static describe(delayMs: number, timeScale: number): string {
    return `${Math.round(delayMs / 1000 / timeScale)}s`;
  }
}
