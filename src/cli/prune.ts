// What every prune shares, as docker's: -f/--force, and without it a question whose answer is read
// from standard input (at end of input, or anything but y, nothing is removed: a prune typed from
// habit, or run by a script that forgot -f, deletes nothing); --filter until= and label=.
import { goDuration } from "./go-time";
import type { ArgsDef } from "citty";
import { all, parseInterspersed, UsageError } from "./argv";
import { type Filters, labelsPass, parseFilters } from "./filters";
import { printErr } from "./output";

export const forceArg = {
  force: { type: "boolean", alias: "f", description: "Do not ask for confirmation" },
} as const;

export const filterArg = {
  filter: { type: "string", description: "until=DURATION|TIMESTAMP, label=KEY[=VALUE], label!=... (repeatable)" },
} as const;

/** WARNING asked on stderr, one line read from stdin: true when the answer is y or yes. */
export function confirmed(force: boolean, warning: string): boolean {
  if (force) return true;
  printErr(`WARNING! ${warning}\nAre you sure you want to continue? [y/N] `);
  const byte = new Uint8Array(1);
  let line = "";
  for (;;) {
    let n = 0;
    try {
      // required here: `hull ps` loads this module (container prune), and node:fs costs ~3 ms to load
      n = (require("node:fs") as typeof import("node:fs")).readSync(0, byte);
    } catch {
      break; // no stdin at all
    }
    if (n <= 0 || byte[0] === 10) break;
    line += String.fromCharCode(byte[0] as number);
  }
  const yes = /^\s*y(es)?\s*$/i.test(line);
  if (!yes) printErr("Nothing removed (give -f to prune without the question)");
  return yes;
}

/** until=: a duration before now, a unix time, or an RFC 3339 date, as a time in ms. */
export function untilTime(value: string, now = Date.now()): number {
  const d = goDuration(value);
  if (d !== undefined) return now - d;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(t)) return t;
  throw new UsageError(`--filter until=${value}: give a duration (24h, 90m), a unix time or an RFC 3339 date`);
}

export interface PruneFilter {
  /** may an object CREATED (ISO time) with LABELS go? */
  allows(created: string, labels?: Record<string, string> | null): boolean;
  filters: Filters;
}

/**
 * The --filter values of COMMAND's RAW_ARGS (flags DEF): until and label (label!= too), every other
 * key refused by name.
 */
export function pruneFilter(rawArgs: string[], def: ArgsDef, command: string): PruneFilter {
  // label!=KEY[=VALUE] is read as the key "label!"
  const given = all(parseInterspersed(rawArgs, def, command, true), "filter");
  const filters = parseFilters(given, ["until", "label", "label!"], command);
  const until = (filters.get("until") ?? []).map((u) => untilTime(u));
  const not = filters.get("label!") ?? [];
  return {
    filters,
    allows(created, labels) {
      const t = Date.parse(created);
      if (until.some((u) => !(t < u))) return false;
      if (!labelsPass(filters, labels)) return false;
      return not.every((n) => !labelsPass(new Map([["label", [n]]]), labels));
    },
  };
}
