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

  /**
   * A sync whose failure the caller handles (the first one, at start): it waits for a
   * running sync, then runs one and rejects with its error. Requests made meanwhile fold
   * into one more sync after it, as with request(), so no two syncs ever overlap (an older
   * snapshot applied after a newer one would undo it).
   */
  async run(): Promise<void> {
    // Checked and taken in one turn, so no request() slips in between.
    while (this.#running) await this.#running;
    let failed = false;
    let failure: unknown;
    this.#running = this.#loop((err) => {
      failed = true;
      failure = err;
    });
    await this.#running;
    if (failed) throw failure;
  }

  /** `first` takes the first sync's error instead of onError. */
  async #loop(first?: (err: unknown) => void): Promise<void> {
    let onError = first ?? this.#onError;
    try {
      do {
        this.#again = false;
        try {
          await this.#sync();
        } catch (err) {
          onError(err);
        }
        onError = this.#onError;
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
