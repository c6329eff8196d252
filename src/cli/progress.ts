// Pull progress: on a terminal, one line per layer redrawn in place; elsewhere, one line per event.
// (process.stderr is loaded only here: its first use costs ~10 ms, which a pull can afford.)
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

export function progress(enabled: boolean): Progress {
  if (!enabled) return { say() {}, finish() {} };
  if (!isatty(2)) return { say: (l) => console.error(l), finish() {} };
  const order: string[] = [];
  const state = new Map<string, string>();
  let drawn = 0;
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let out = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const id of order) out += `\x1b[2K${id}: ${state.get(id)}\n`;
    drawn = order.length;
    process.stderr.write(out);
  };
  return {
    say(line) {
      process.stderr.write(`${line}\n`);
      drawn = 0;
    },
    bytes(id, done, total) {
      if (!state.has(id)) order.push(id);
      const width = 30;
      const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
      state.set(id, `[${"=".repeat(filled)}${" ".repeat(width - filled)}] ${mb(done)}/${mb(total)}`);
      draw(done >= total);
    },
    finish() {
      draw(true);
    },
  };
}
