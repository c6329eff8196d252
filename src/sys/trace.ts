// HULL_TRACE=timing: a line on stderr per phase of a command, in milliseconds since the process
// started, from both halves of `hull run` (the shim prints its own, on the same clock, from the
// origin this module hands it). Kept in the code so a slower release can be explained phase by phase.

const on = (process.env.HULL_TRACE ?? "").split(",").includes("timing");

/** The wall-clock time (ms since the epoch) the process started; the shim's lines count from it. */
export function traceOrigin(): number | undefined {
  return on ? performance.timeOrigin : undefined;
}

/** One line, "hull-trace   12.34 ms  LABEL", when tracing. */
export function mark(label: string): void {
  if (on) console.error(`hull-trace ${performance.now().toFixed(2).padStart(8)} ms  ${label}`);
}
