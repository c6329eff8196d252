import { close, flock, LOCK_EX, LOCK_SH, mkdir, O_CREAT, O_WRONLY, open } from "../sys/libc";

/** mkdir -p, through libc (node:fs is not loaded on `hull run`'s path). */
export function mkdirs(dir: string): void {
  const parts = dir.split("/");
  for (let i = 2; i <= parts.length; i++) {
    const p = parts.slice(0, i).join("/");
    if (p) mkdir(p, 0o700, true);
  }
}

/**
 * Run FN while holding a flock on PATH (created if missing): exclusive, or SHARED. Two hull processes
 * that update the same record serialise here; the kernel drops the lock if one of them dies.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T> | T,
  shared = false,
  /** false: the lock's directory must exist already (open then fails with ENOENT, naming PATH) */
  makeDirs = true,
): Promise<T> {
  if (makeDirs) mkdirs(path.slice(0, path.lastIndexOf("/")));
  const fd = open(path, O_WRONLY | O_CREAT, 0o600);
  try {
    flock(fd, shared ? LOCK_SH : LOCK_EX);
    return await fn();
  } finally {
    close(fd);
  }
}
