// Output for commands. Not process.stdout/process.stderr: in a compiled Bun binary their first use
// loads node:tty and node:stream, about 10 ms, which is more than all of `hull run`'s own work.
// console.* writes straight to the descriptor.

/** TEXT plus a newline on stdout. */
export function print(text: string): void {
  console.log(text);
}

/** TEXT plus a newline on stderr. */
export function printErr(text: string): void {
  console.error(text);
}

/** TEXT as it is (no newline added), to stdout or stderr; for output that carries its own line ends. */
export function write(text: string, stream: "stdout" | "stderr" = "stdout"): void {
  // the node streams, on purpose: only `hull logs` writes this way, and it can afford their load
  (stream === "stdout" ? process.stdout : process.stderr).write(text);
}
