/**
 * Time as the data plane sees it. Probes, idle timeouts, session affinity and dial
 * timeouts read this instead of the global timers so that tests can move time by hand.
 */
export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Timers are unref'd: the listeners and sockets they serve are what keeps a process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
