// File work beneath a container's root, done by hull as root in the user namespace, where every
// host path the user owns is writable: so a path of the container is resolved beneath its root with
// each symlink followed inside it (an absolute link in an image names a path of the image, not of
// this host), and what is copied in never goes through a link the container made.
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { join, posix } from "../sys/path";

/** PATH beneath ROOT as the container sees it: symlinks followed, but never above ROOT; the last
 * component is left as it is (a link there is the entry itself). */
export function resolveInRoot(root: string, path: string): string {
  const todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    let link: string | undefined;
    try {
      if (lstatSync(here).isSymbolicLink()) link = readlinkSync(here);
    } catch {}
    if (link === undefined || todo.length === 0) {
      done.push(part);
      continue;
    }
    if (++links > 40) throw new Error(`too many symbolic links resolving ${path}`);
    if (link.startsWith("/")) done.length = 0;
    todo.unshift(...link.split("/").filter(Boolean));
  }
  return join(root, ...done);
}

/** PATH beneath ROOT with a symlink at its end followed too; throws when nothing is there. */
export function realIn(root: string, path: string): string {
  let p = resolveInRoot(root, path);
  for (let i = 0; i < 40; i++) {
    // the root itself is no link to follow, even where it is one on the host: a running container's
    // /proc/PID/root (which read back to itself 40 times: `hull cp F running:/name` failed); ROOT/.
    // so that an lstat of what is returned sees the directory
    if (p === join(root)) return `${p}/.`;
    const st = lstatSync(p);
    if (!st.isSymbolicLink()) return p;
    const link = readlinkSync(p);
    const rel = p.slice(root.length) || "/";
    p = resolveInRoot(root, link.startsWith("/") ? link : posix.join(posix.dirname(rel), link));
  }
  throw new Error(`too many symbolic links resolving ${path}`);
}

/** realIn, or undefined when nothing is there. */
export function rooted(root: string, path: string): string | undefined {
  try {
    return realIn(root, path);
  } catch {
    return undefined;
  }
}

export function isDirIn(root: string, path: string): boolean {
  const p = rooted(root, path);
  return p !== undefined && lstatSync(p).isDirectory();
}

export interface CopyRules {
  root: string;
  /** the owner of each copy, from the source's lstat */
  owner(st: { uid: number; gid: number }): { uid: number; gid: number };
  /** a mode for every copy (COPY --chmod), else the source's */
  mode?: number;
  /** keep the sources' mtimes (set on directories once their contents are in) */
  times: boolean;
}

/**
 * The host path SRC (a file, link or directory tree) to the container path DEST, whose parent
 * exists. An existing directory at DEST (or a link to one, inside ROOT) is copied into; anything
 * else there is replaced. INCLUDE: the paths to copy, relative to a directory whose entry SRC is as
 * REL (for a directory given whole, REL "" and paths beneath SRC).
 */
export function copyIn(rules: CopyRules, src: string, dest: string, include?: Set<string>, rel = ""): void {
  const dirTimes: Array<[string, Date]> = [];
  copyOne(rules, src, dest, include, rel, dirTimes);
  if (rules.times) for (const [dir, mtime] of dirTimes.reverse()) utimesSync(dir, mtime, mtime);
}

function copyOne(
  rules: CopyRules,
  src: string,
  dest: string,
  include: Set<string> | undefined,
  rel: string,
  dirTimes: Array<[string, Date]>,
): void {
  const st = lstatSync(src);
  const existing = st.isDirectory() ? rooted(rules.root, dest) : undefined;
  const target = existing && lstatSync(existing).isDirectory() ? existing : resolveInRoot(rules.root, dest);
  const { uid, gid } = rules.owner(st);
  const mode = rules.mode ?? st.mode & 0o7777;
  if (st.isDirectory()) {
    if (target !== existing) {
      rmSync(target, { force: true, recursive: true });
      mkdirSync(target);
    }
    lchownSync(target, uid, gid);
    chmodSync(target, mode);
    for (const name of readdirSync(src).sort()) {
      const sub = rel ? `${rel}/${name}` : name;
      if (include && !include.has(sub)) continue;
      copyOne(rules, join(src, name), posix.join(dest, name), include, sub, dirTimes);
    }
    dirTimes.push([target, st.mtime]);
    return;
  }
  // a link at the target is removed, not written through
  rmSync(target, { force: true, recursive: true });
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), target);
    lchownSync(target, uid, gid);
  } else if (st.isFile()) {
    copyFileSync(src, target);
    lchownSync(target, uid, gid);
    chmodSync(target, mode);
    if (rules.times) utimesSync(target, st.atime, st.mtime);
  }
  // sockets, fifos and devices are not copied, as Docker does not
}
