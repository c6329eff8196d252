// Which process owns a store entry: a pid and its start time ("pid starttime"), so that a recycled
// pid is never taken for the process that made the entry.
import { readFileText } from "../sys/libc";

/** A "pid starttime" file (the shim's init.pid and the like), or undefined when it is not one. */
export function readOwnerFile(path: string): { pid: number; start: string } | undefined {
  const [pid, start] = (readFileText(path) ?? "").trim().split(" ");
  if (!pid || !start || !/^\d+$/.test(pid)) return undefined;
  return { pid: Number(pid), start };
}

/** The start time of PID (field 22 of /proc/PID/stat, in clock ticks since boot), or undefined once it is gone. */
export function processStart(pid: number | "self"): string | undefined {
  const stat = readFileText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // the command name (field 2) may hold spaces and parentheses: count from the last ')'
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // a zombie has ended: where no one reaps (an init that does not), it would seem to run forever
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}
