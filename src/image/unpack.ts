// Streams a layer tar (modern-tar's web-streams decoder) into a directory in the form overlayfs reads
// (kernel overlay with userxattr, and fuse-overlayfs): whiteouts become 0:0 character devices, opaque
// directories get user.overlay.opaque=y. Every entry is resolved beneath the directory: absolute
// names are made relative, `..` is refused, and nothing is written through a symlink that an earlier
// entry planted. With `owners`, run as root in the user namespace (see runtime/userns-exec.ts), files
// get the tar's uid and gid for real.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  openSync,
  writeSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { basename, dirname, join } from "../sys/path";
import { createTarDecoder } from "modern-tar";
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from "../sys/libc";

export class UnsafeEntryError extends Error {}

export interface UnpackOptions {
  /** chown every entry to the tar's ids (only root in a user namespace can) */
  owners?: boolean;
}

export interface UnpackReport {
  entries: number;
  /** device nodes, which a user namespace cannot create */
  skippedSpecial: string[];
  /** extended attributes the kernel refused */
  skippedXattrs: string[];
  /** ids outside the container's id range, given to root instead */
  unmappedOwners: number;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
/** aufs's own bookkeeping (.wh..wh.plnk, .wh..wh.aufs): never content, skipped as Docker does */
const AUFS_META = ".wh..wh.";
/** O_PATH (Linux, every architecture hull runs on): a handle on the directory itself, whatever its mode */
const O_PATH = 0o10000000;
const enc = new TextEncoder();

/** "./a/b/" -> "a/b"; refuses names that climb out of the root. */
export function entryPath(name: string): string {
  // a NUL cannot be in a file name: modern-tar hands over what the header holds, cut or not
  if (name.includes("\0")) throw new UnsafeEntryError(`layer entry ${JSON.stringify(name)} has a NUL byte in its name`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UnsafeEntryError(`layer entry ${JSON.stringify(name)} climbs out of the layer`);
  return parts.join("/");
}

/**
 * Directories of the layer known to be real directories, so that each is checked with lstat once,
 * not once per entry beneath it (a Debian layer has ~10,000 entries). Whatever replaces a path
 * forgets it and everything below it.
 */
class KnownDirs {
  private dirs = new Set<string>();

  has(rel: string): boolean {
    return this.dirs.has(rel);
  }

  add(rel: string): void {
    this.dirs.add(rel);
  }

  forget(rel: string): void {
    if (!this.dirs.delete(rel)) return;
    const prefix = `${rel}/`;
    for (const d of this.dirs) if (d.startsWith(prefix)) this.dirs.delete(d);
  }
}

/**
 * Refuse to write beneath a symlink: each parent of REL must be a real directory, or absent and
 * then created. Returns with every parent present.
 */
function ensureParents(root: string, rel: string, known: KnownDirs): void {
  const parts = rel.split("/");
  let sub = "";
  for (const part of parts.slice(0, -1)) {
    sub = sub ? `${sub}/${part}` : part;
    if (known.has(sub)) continue;
    const p = join(root, sub);
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) throw new UnsafeEntryError(`layer entry ${rel} would be written through symlink ${sub}`);
      if (!st.isDirectory()) throw new UnsafeEntryError(`layer entry ${rel}: ${sub} is not a directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(p);
    }
    known.add(sub);
  }
}

/** Run CREATE; if something is already at DEST (an earlier layer entry), remove it and run it again. */
function replacing(dest: string, create: () => void): void {
  try {
    create();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    removeAny(dest);
    create();
  }
}

function removeAny(path: string): void {
  rmSync(path, { force: true, recursive: true });
}

export async function unpackLayer(
  stream: ReadableStream<Uint8Array>,
  root: string,
  opts: UnpackOptions = {},
): Promise<UnpackReport> {
  mkdirSync(root, { recursive: true });
  const report: UnpackReport = { entries: 0, skippedSpecial: [], skippedXattrs: [], unmappedOwners: 0 };
  const ownFd = (fd: number, uid = 0, gid = 0) => {
    try {
      fchownSync(fd, uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
      report.unmappedOwners++;
      fchownSync(fd, 0, 0);
    }
  };
  const own = (path: string, uid = 0, gid = 0) => {
    if (!opts.owners) return;
    try {
      lchownSync(path, uid, gid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
      report.unmappedOwners++;
      lchownSync(path, 0, 0);
    }
  };
  const dirMeta: [string, number, Date | undefined][] = [];
  const known = new KnownDirs();
  for await (const entry of stream.pipeThrough(createTarDecoder())) {
    const h = entry.header;
    const rel = entryPath(h.name);
    const type = h.type ?? "file";
    report.entries++;
    if (rel === "") {
      if (type === "directory") dirMeta.push(["", h.mode ?? 0o755, h.mtime]);
      await entry.body.cancel();
      continue;
    }
    ensureParents(root, rel, known);
    const dest = join(root, rel);
    const name = basename(rel);

    if (name.startsWith(AUFS_META) && name !== OPAQUE) {
      await entry.body.cancel();
      continue;
    }
    if (name === OPAQUE) {
      // the directory hides everything below it in lower layers
      for (const attr of ["user.overlay.opaque", "user.fuseoverlayfs.opaque"])
        lsetxattr(dirname(dest), attr, enc.encode("y"));
      await entry.body.cancel();
      continue;
    }
    if (name.startsWith(WHITEOUT)) {
      const target = name.slice(WHITEOUT.length);
      // `.wh..` and `.wh...` would name the directory itself or its parent: the layer's root, or the
      // store's tmp/ above it, was removed and replaced by a device node
      if (target === "" || target === "." || target === "..")
        throw new UnsafeEntryError(`layer entry ${JSON.stringify(h.name)} is a whiteout of no file`);
      const hidden = join(dirname(dest), target);
      known.forget(join(dirname(rel), name.slice(WHITEOUT.length)));
      removeAny(hidden);
      mknod(hidden, S_IFCHR, 0);
      own(hidden, h.uid, h.gid);
      await entry.body.cancel();
      continue;
    }

    switch (type) {
      case "directory":
        if (!known.has(rel)) {
          try {
            mkdirSync(dest);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            if (!lstatSync(dest).isDirectory()) {
              removeAny(dest);
              mkdirSync(dest);
            }
          }
          known.add(rel);
        }
        own(dest, h.uid, h.gid);
        dirMeta.push([rel, h.mode ?? 0o755, h.mtime]);
        await entry.body.cancel();
        break;
      case "symlink":
        if ((h.linkname ?? "").includes("\0"))
          throw new UnsafeEntryError(`layer entry ${rel}: its link target has a NUL byte`);
        known.forget(rel);
        replacing(dest, () => symlinkSync(h.linkname ?? "", dest));
        own(dest, h.uid, h.gid);
        await entry.body.cancel();
        break;
      case "link": {
        const target = entryPath(h.linkname ?? "");
        ensureParents(root, target, known);
        known.forget(rel);
        replacing(dest, () => linkSync(join(root, target), dest));
        await entry.body.cancel();
        break;
      }
      case "file": {
        known.forget(rel);
        // everything through the descriptor: no path lookup per call, and no truncate
        let fd = -1;
        replacing(dest, () => {
          fd = openSync(dest, "wx", 0o600);
        });
        try {
          // chunk by chunk as the decoder hands them over: a large file is never held in memory whole
          for await (const chunk of entry.body) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off);
          }
          // chown before chmod: chown clears the setuid and setgid bits
          if (opts.owners) ownFd(fd, h.uid, h.gid);
          fchmodSync(fd, h.mode ?? 0o644);
          if (h.mtime) futimesSync(fd, h.mtime, h.mtime);
        } finally {
          closeSync(fd);
        }
        break;
      }
      case "fifo":
        // a fifo needs no privilege; podman keeps them, and so do we
        known.forget(rel);
        replacing(dest, () => mknod(dest, S_IFIFO | ((h.mode ?? 0o644) & 0o7777), 0));
        own(dest, h.uid, h.gid);
        chmodSync(dest, (h.mode ?? 0o644) & 0o7777);
        await entry.body.cancel();
        break;
      default:
        report.skippedSpecial.push(rel);
        await entry.body.cancel();
        continue;
    }
    for (const [key, value] of Object.entries(h.pax ?? {})) {
      if (!key.startsWith("SCHILY.xattr.")) continue;
      const attr = key.slice("SCHILY.xattr.".length);
      try {
        lsetxattr(dest, attr, enc.encode(value));
      } catch {
        report.skippedXattrs.push(`${rel}: ${attr}`);
      }
    }
  }
  // directories last, so writing their contents does not disturb their modes and times. A later
  // entry may have put a symlink where a directory was (`d/` 4777, then `d -> /home/me/.bashrc`):
  // only a path still known as a real directory all the way down is touched, through an O_PATH
  // handle opened without following a link, so a mode can never land on a file outside the layer.
  for (const [rel, mode, mtime] of dirMeta.reverse()) {
    if (rel !== "" && !known.has(rel)) continue;
    let fd: number;
    try {
      fd = openSync(rel === "" ? root : join(root, rel), O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") continue;
      throw e;
    }
    try {
      const self = `/proc/self/fd/${fd}`;
      chmodSync(self, mode);
      if (mtime) utimesSync(self, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }
  return report;
}
