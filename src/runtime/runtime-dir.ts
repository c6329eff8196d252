// The user's runtime directory, checked before use: after `su` or `sudo -u`, XDG_RUNTIME_DIR is often
// the other user's (/run/user/1000 for uid 1001), or unset. hull keeps its state in the store, so
// only a few things live here (slirp4netns's API socket for a store under a long path, the systemd
// manager's socket for limits, podman's auth.json), and each must be the caller's own.
import { lstatSync, mkdirSync } from "node:fs";

export interface RuntimeDir {
  dir: string;
  /** where it came from, for hull doctor */
  from: "XDG_RUNTIME_DIR" | "/run/user" | "fallback";
  /** why XDG_RUNTIME_DIR was not taken (unset, another user's) */
  passedOver?: string;
}

const uid = () => process.getuid?.() ?? 0;

/** Why DIR cannot be the caller's private directory, or undefined when it can. */
function notOurs(dir: string): string | undefined {
  try {
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) return `${dir} is a symbolic link`;
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (st.uid !== uid()) return `${dir} belongs to uid ${st.uid}, not to you (uid ${uid()}: after su or sudo?)`;
    if ((st.mode & 0o077) !== 0) return `${dir} is open to others (mode ${(st.mode & 0o777).toString(8)})`;
    return undefined;
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code}`;
  }
}

/** The systemd-given directory of the caller's own (XDG_RUNTIME_DIR, else /run/user/UID), if any. */
export function userRuntimeDir(): RuntimeDir | undefined {
  const env = process.env.XDG_RUNTIME_DIR;
  const passedOver = env ? notOurs(env) : "XDG_RUNTIME_DIR is not set";
  if (env && !passedOver) return { dir: env, from: "XDG_RUNTIME_DIR" };
  const run = `/run/user/${uid()}`;
  if (!notOurs(run)) return { dir: run, from: "/run/user", passedOver };
  return undefined;
}

/**
 * A directory only the caller can use: the user's runtime directory, else /tmp/hull-run-UID (made
 * 0700 and checked, as podman's /tmp/podman-run-UID: another user may have made the name first).
 */
export function privateRuntimeDir(): RuntimeDir {
  const own = userRuntimeDir();
  if (own) return own;
  const env = process.env.XDG_RUNTIME_DIR;
  const passedOver = env ? notOurs(env) : "XDG_RUNTIME_DIR is not set";
  const dir = `/tmp/hull-run-${uid()}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`cannot make ${dir}: ${(e as Error).message}`);
  }
  const why = notOurs(dir);
  if (why)
    throw new Error(`no private runtime directory: ${why}; remove it, or set XDG_RUNTIME_DIR to a directory of yours`);
  return { dir, from: "fallback", passedOver };
}
