// How many bytes a directory tree holds (ps -s, system df): regular files' sizes, links not
// followed, directories that vanish while counted skipped (a container removed meanwhile).
import { lstatSync, readdirSync } from "node:fs";

export function treeSize(dir: string): number {
  let total = 0;
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
        else total += st.size;
      } catch {}
    }
  };
  walk(dir);
  return total;
}

/** How many entries DIR has (0 when it does not exist). */
export function entryCount(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}
