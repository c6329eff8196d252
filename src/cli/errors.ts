// A failed system call on a path, said in words with what to do: "mkdir /x/store: EACCES" told a
// user neither that /x/store is hull's store nor how to choose another.

const WORDS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "it is on a read-only file system",
  ENOTDIR: "a part of the path is not a directory",
  ENAMETOOLONG: "the path is too long",
  ENOSPC: "no space is left on the device",
  EDQUOT: "the disk quota is used up",
  ELOOP: "the path has too many symbolic links",
};

/** E in words when it is a failed call on a path; STORE is the store directory this command uses. */
export function pathErrorInWords(e: unknown, store: string): string | undefined {
  // a wrapper that only carried the message along (RunError.from) is said as its cause
  const cause = (e as { cause?: unknown })?.cause;
  if (cause && (e as Error).message === (cause as Error).message) return pathErrorInWords(cause, store);
  // by shape, not class: hull's SysError and node's ErrnoException both carry code, syscall and path
  // (and a class can exist twice in a split bundle, which makes instanceof miss)
  const err = e as { code?: unknown; path?: unknown; syscall?: unknown };
  if (!(e instanceof Error) || typeof err.code !== "string" || typeof err.path !== "string") return undefined;
  const words = err.code ? WORDS[err.code] : undefined;
  if (!words || !err.path) return undefined;
  const inStore = err.path === store || err.path.startsWith(`${store}/`);
  const fix = inStore
    ? `; hull keeps its store in ${store}: give --root DIR or HULL_ROOT=DIR for a directory of yours on a local disk`
    : "";
  return `cannot ${err.syscall ?? "use"} ${err.path}: ${words}${fix}`;
}

/** The store directory ARGS name (--root DIR or --root=DIR), else the default. */
export function storeFromArgs(args: string[], fallback: string): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") break;
    if (a === "--root" && args[i + 1]) return args[i + 1] as string;
    if (a.startsWith("--root=")) return a.slice("--root=".length);
  }
  return fallback;
}
