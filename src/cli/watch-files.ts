/**
 * `up --watch`: calls back once a burst of changes to the manifest files settles (editors
 * write a file in several steps), and never while the previous call is still running.
 */
import { watch, type FSWatcher } from 'node:fs';

export function watchFiles(paths: readonly string[], onChange: () => Promise<void>, settleMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = onChange().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };
  const changed = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, settleMs);
  };
  const watchers: FSWatcher[] = paths.map((p) => watch(p, { recursive: true }, changed));
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
