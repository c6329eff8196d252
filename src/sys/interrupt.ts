// Cleanups that must run when hull is told to stop (Ctrl-C, SIGTERM, SIGHUP): a container frozen
// for a copy is continued, a half-written file removed. One handler per signal runs every cleanup
// registered, newest first, then lets the signal end hull as it would have (the status a shell
// sees is the signal's).
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Signal = (typeof SIGNALS)[number];
const cleanups: (() => unknown)[] = [];
const handlers = new Map<Signal, () => void>();
let running = false;

async function stop(signal: Signal): Promise<void> {
  if (running) return;
  running = true;
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn();
    } catch {}
  }
  for (const [s, h] of handlers) process.off(s, h);
  process.kill(process.pid, signal);
}

/** Run FN if hull is stopped by a signal before the returned function is called. */
export function onInterrupt(fn: () => unknown): () => void {
  if (handlers.size === 0) {
    for (const s of SIGNALS) {
      const h = () => void stop(s);
      handlers.set(s, h);
      process.on(s, h);
    }
  }
  cleanups.push(fn);
  return () => {
    const i = cleanups.lastIndexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
