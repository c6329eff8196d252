// HULL_TRACE=timing: a line on stderr per phase of a command, in milliseconds since the process
// started, from both halves of `hull run` (the shim prints its own, on the same clock, from the
// origin this module hands it). Kept in the code so a slower release can be explained phase by phase.
import { readFileText } from "./libc";

const on = (process.env.HULL_TRACE ?? "").split(",").includes("timing");

/** The wall-clock time (ms since the epoch) the process started; the shim's lines count from it. */
export function traceOrigin(): number | undefined {
  return on ? performance.timeOrigin : undefined;
}

/**
 * The page faults so far and the private (written) memory, in pages: on a host where the first
 * write to a page costs ~10 µs (a VM with shadow page tables), they explain more of a phase than
 * its code does.
 */
function pages(): string {
  try {
    // through libc, which every command has loaded: node:fs here added its own ~3 ms to the trace
    const stat = readFileText("/proc/self/stat") ?? "";
    const statm = readFileText("/proc/self/statm") ?? "";
    const minflt = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7];
    const [, resident, shared] = statm.split(" ").map(Number) as number[];
    return `  (${minflt} faults, ${(resident as number) - (shared as number)} private pages)`;
  } catch {
    return "";
  }
}

/** One line, "hull-trace   12.34 ms  LABEL  (N faults, M private pages)", when tracing. */
export function mark(label: string): void {
  if (on) console.error(`hull-trace ${performance.now().toFixed(2).padStart(8)} ms  ${label}${pages()}`);
}
