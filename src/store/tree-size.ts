// How many bytes a directory tree holds (ps -s, system df): files' sizes, hard links once, links not
// followed, directories that vanish while counted skipped (a container removed meanwhile).
// node:fs required where used: `hull ps` loads this module for -s, and node:fs costs ~3 ms to load
import { readDir } from "../sys/libc";

export function treeSize(dir: string): number {
  const { lstatSync, readdirSync } = require("node:fs") as typeof import("node:fs");
  let total = 0;
  // a file with several names counts once, as du counts it
  const seen = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const st = lstatSync(`${d}/${n}`);
        if (st.isDirectory()) walk(`${d}/${n}`);
        else if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          if (!seen.has(key)) total += st.size;
          seen.add(key);
        } else total += st.size;
      } catch {}
    }
  };
  walk(dir);
  return total;
}

/** How many entries DIR has (0 when it does not exist). */
export function entryCount(dir: string): number {
  try {
    return readDir(dir)?.length ?? 0;
  } catch {
    return 0;
  }
}
