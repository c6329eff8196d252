// Work in progress lives in the store's tmp/ under names that say whose it is
// (KIND-PID-STARTTIME-RANDOM), so that what a killed hull left half-written (a blob, an unpacked
// layer, a loaded archive, a build) is recognised and removed by the next command, and never by one
// that races the process still writing it.
import { join } from "../sys/path";
import type { StorePaths } from "./paths";
import { processStart } from "./owner";

const OWNED = /^[a-z]+-(\d+)-(\d+)-[0-9a-f]{8}/;
/** names older hull versions gave (KIND-UUID): their owner is unknown, so only old ones are swept */
const LEGACY = /^[a-z]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const LEGACY_AGE_MS = 24 * 3600 * 1000;

/** A fresh path in tmp/ for KIND, owned by this process (SUFFIX: ".tar", ".json"...). */
export function tmpEntry(paths: StorePaths, kind: string, suffix = ""): string {
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
  return join(paths.tmp, `${kind}-${process.pid}-${processStart("self")}-${random}${suffix}`);
}

/** The entries of tmp/ whose process is gone: safe to remove. */
export function staleTmpEntries(paths: StorePaths): string[] {
  const { readdirSync, lstatSync } = require("node:fs") as typeof import("node:fs");
  let names: string[] = [];
  try {
    names = readdirSync(paths.tmp);
  } catch {
    return [];
  }
  const now = Date.now();
  return names
    .filter((n) => {
      const m = OWNED.exec(n);
      if (m) return processStart(Number(m[1])) !== m[2];
      if (!LEGACY.test(n)) return false;
      try {
        return now - lstatSync(join(paths.tmp, n)).mtimeMs > LEGACY_AGE_MS;
      } catch {
        return false;
      }
    })
    .map((n) => join(paths.tmp, n));
}

/**
 * Remove what killed processes left in tmp/. REMOVE deletes trees that may hold files of any id of
 * the container range (the user-namespace remover); a failure is left for `hull system check`.
 */
export async function sweepTmp(paths: StorePaths, remove: (paths: string[]) => Promise<void>): Promise<string[]> {
  const stale = staleTmpEntries(paths);
  if (stale.length > 0) await remove(stale).catch(() => {});
  return stale;
}
