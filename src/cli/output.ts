// Output for commands. Not process.stdout/process.stderr: in a compiled Bun binary their first use
// loads node:tty and node:stream, about 10 ms, which is more than all of `hull run`'s own work.
// console.* writes straight to the descriptor.
import { type Fd, writeAll } from "../sys/libc";

/** TEXT plus a newline on stdout. */
export function print(text: string): void {
  console.log(text);
}

/**
 * TEXT plus a newline on stderr: progress and notes. Not console.error, which on a terminal paints
 * everything it writes red, as if each build step were an error; a closed stderr loses the line.
 */
export function printErr(text: string): void {
  try {
    writeAll(2 as Fd, Buffer.from(`${text}\n`));
  } catch {}
}

/** TEXT as it is (no newline added), to stdout or stderr; for output that carries its own line ends. */
export function write(text: string, stream: "stdout" | "stderr" = "stdout"): void {
  // the node streams, on purpose: only `hull logs` writes this way, and it can afford their load
  (stream === "stdout" ? process.stdout : process.stderr).write(text);
}
