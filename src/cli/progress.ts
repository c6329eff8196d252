// Transfer progress for pull, push and load: on a terminal, one line per layer redrawn in place, with
// bytes, rate and time left; elsewhere, one line per event (a log keeps no redraws).
// (process.stderr is loaded only here: its first use costs ~10 ms, which a transfer can afford.)
import { visible } from "../sys/control-chars";
import { isatty } from "../sys/libc";

export interface Progress {
  say(line: string): void;
  /** only on a terminal: elsewhere each layer gets a line when it is done */
  bytes?: (id: string, done: number, total: number) => void;
  finish(): void;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function seconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * One layer's line: a bar, the bytes, the rate so far and the time left at that rate; once done,
 * the bytes, the time it took and the rate. ELAPSED in ms since its first byte.
 */
export function progressLine(done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const perSecond = `${mb(rate)}/s`;
  if (total > 0 && done >= total) return `done ${mb(total)} in ${(elapsedMs / 1000).toFixed(1)}s (${perSecond})`;
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.floor((done / total) * width)) : 0;
  const bar = `[${"=".repeat(filled)}${filled < width ? ">" : ""}${" ".repeat(Math.max(0, width - filled - 1))}]`;
  const eta = rate > 0 && total > done ? `  ETA ${seconds((total - done) / rate)}` : "";
  return `${bar} ${mb(done)}/${mb(total)}  ${perSecond}${eta}`;
}

/** Where progress goes: stderr, drawn in place when it is a terminal (a test gives its own). */
export interface ProgressSink {
  tty: boolean;
  write(text: string): void;
}

const stderrSink = (): ProgressSink => ({ tty: isatty(2), write: (t) => process.stderr.write(t) });

export function progress(enabled: boolean, sink: ProgressSink = stderrSink()): Progress {
  if (!enabled) return { say() {}, finish() {} };
  if (!sink.tty) return { say: (l) => sink.write(`${visible(l)}\n`), finish() {} };
  const order: string[] = [];
  const state = new Map<string, string>();
  const started = new Map<string, number>();
  let drawn = 0;
  let last = 0;
  // a state not drawn yet: finish() draws only that (after a say(), a redraw would repeat the block)
  let dirty = false;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    dirty = false;
    let out = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const id of order) out += `\x1b[2K${id}: ${state.get(id)}\n`;
    drawn = order.length;
    sink.write(out);
  };
  return {
    say(line) {
      sink.write(`${visible(line)}\n`);
      drawn = 0;
    },
    bytes(id, done, total) {
      if (!state.has(id)) order.push(id);
      if (!started.has(id)) started.set(id, performance.now());
      state.set(id, progressLine(done, total, performance.now() - (started.get(id) as number)));
      dirty = true;
      draw(done >= total);
    },
    finish() {
      if (dirty) draw(true);
    },
  };
}
