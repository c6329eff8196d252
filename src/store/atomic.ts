import { close, fsync, O_CREAT, O_EXCL, O_WRONLY, open, rename, unlinkIfExists, writeAll } from "../sys/libc";

const enc = new TextEncoder();

/** Create PATH, which must not exist yet, with DATA: for files in a directory no one else reads yet. */
export function writeNewFile(path: string, data: string, mode = 0o644): void {
  const fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
  try {
    writeAll(fd, enc.encode(data));
  } finally {
    close(fd);
  }
}

function tmpName(path: string): string {
  const r = crypto.getRandomValues(new Uint8Array(6));
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}.tmp-${Buffer.from(r).toString("hex")}`;
}

/**
 * Write a file so readers see the old content or the new, never a part: temp name, fsync, rename.
 * DURABLE false skips the fsync, for records that do not outlive a crash anyway (a --rm container's).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, durable = true): void {
  const tmp = tmpName(path);
  const fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
  try {
    writeAll(fd, typeof data === "string" ? enc.encode(data) : data);
    if (durable) fsync(fd);
    close(fd);
    rename(tmp, path);
  } catch (e) {
    unlinkIfExists(tmp);
    throw e;
  }
}
