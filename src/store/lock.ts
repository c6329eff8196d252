import { close, flock, LOCK_EX, mkdir, O_CREAT, O_WRONLY, open } from "../sys/libc";

/**
 * Run FN while holding an exclusive flock on PATH (created if missing). Two hull processes that
 * update the same record serialise here; the kernel drops the lock if one of them dies.
 */
export async function withLock<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  mkdir(path.slice(0, path.lastIndexOf("/")), 0o700, true);
  const fd = open(path, O_WRONLY | O_CREAT, 0o600);
  try {
    flock(fd, LOCK_EX);
    return await fn();
  } finally {
    close(fd);
  }
}
