/**
 * Coalesces bursts of changes into one sync, like kube-proxy's bounded-frequency runner:
 * at most one sync runs at a time, and requests made while it runs fold into one more.
 */
export class SyncRunner {
  readonly #sync: () => Promise<void>;
  readonly #onError: (err: unknown) => void;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(sync: () => Promise<void>, onError: (err: unknown) => void) {
    this.#sync = sync;
    this.#onError = onError;
  }

  /** Ask for a sync; resolves once a sync that saw this request has finished (the loop re-runs while asked). */
  request(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        try {
          await this.#sync();
        } catch (err) {
          this.#onError(err);
        }
      } while (this.#again);
    } finally {
      this.#running = undefined;
    }
  }

  /** Resolves when no sync is running or queued. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }
}
