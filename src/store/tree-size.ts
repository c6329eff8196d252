// How many bytes a directory tree holds (ps -s, system df): files' sizes, hard links once, links not
// followed, directories that vanish while counted skipped (a container removed meanwhile).
// through libc (src/sys/libc.ts treeBytes): a walk by paths stopped at PATH_MAX, below which a
// container could hide any number of bytes
import { readDir, treeBytes } from "../sys/libc";

export function treeSize(dir: string): number {
  return treeBytes(dir);
}

/** How many entries DIR has (0 when it does not exist). */
export function entryCount(dir: string): number {
  try {
    return readDir(dir)?.length ?? 0;
  } catch {
    return 0;
  }
}
