// Cleanups that must run when hull is told to stop (Ctrl-C, SIGTERM, SIGHUP): a
// container frozen for a copy is continued, a half-written file removed. One handler per signal
// runs every cleanup registered, newest first, then ends hull with the signal's status.
const cleanups: (() => unknown)[] = [];
const CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
let installed = false;
let running = false;

async function stop(signal: keyof typeof CODES): Promise<never> {
  if (!running) {
    running = true;
    for (const fn of [...cleanups].reverse()) {
      try {
        await fn();
      } catch {}
    }
  }
  process.exit(CODES[signal]);
}

/** Run FN if hull is stopped by a signal before the returned function is called. */
export function onInterrupt(fn: () => unknown): () => void {
  if (!installed) {
    installed = true;
    for (const s of Object.keys(CODES) as (keyof typeof CODES)[]) process.on(s, () => void stop(s));
  }
  cleanups.push(fn);
  return () => {
    const i = cleanups.lastIndexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
