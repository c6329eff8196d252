// Streams a layer tar (modern-tar's web-streams decoder) into a directory in the form overlayfs reads
// (kernel overlay with userxattr, and fuse-overlayfs): whiteouts become 0:0 character devices, opaque
// directories get user.overlay.opaque=y. Every entry is resolved beneath the directory: absolute
// names are made relative, `..` is refused, and nothing is written through a symlink that an earlier
// entry planted. With `owners`, run as root in the user namespace (see runtime/userns-exec.ts), files
// get the tar's uid and gid for real.
import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { createTarDecoder } from "modern-tar";
import { lsetxattr, mknod, S_IFCHR } from "../sys/libc";

export class UnsafeEntryError extends Error {}

export interface UnpackOptions {
  /** chown every entry to the tar's ids (only root in a user namespace can) */
  owners?: boolean;
}

export interface UnpackReport {
  entries: number;
  /** device nodes and fifos, which a user namespace cannot create */
  skippedSpecial: string[];
  /** extended attributes the kernel refused */
  skippedXattrs: string[];
  /** ids outside the container's id range, given to root instead */
  unmappedOwners: number;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";
const enc = new TextEncoder();

/** "./a/b/" -> "a/b"; refuses names that climb out of the root. */
export function entryPath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UnsafeEntryError(`layer entry ${JSON.stringify(name)} climbs out of the layer`);
  return parts.join("/");
}

/** Refuse to write beneath a symlink: each parent of REL must be a real directory (or absent). */
function checkParents(root: string, rel: string): void {
  const parts = rel.split("/");
  let p = root;
  for (const part of parts.slice(0, -1)) {
    p = join(p, part);
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink())
        throw new UnsafeEntryError(`layer entry ${rel} would be written through symlink ${part}`);
      if (!st.isDirectory()) throw new UnsafeEntryError(`layer entry ${rel}: ${part} is not a directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
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
  for await (const entry of stream.pipeThrough(createTarDecoder())) {
    const h = entry.header;
    const rel = entryPath(h.name);
    const type = h.type ?? "file";
    report.entries++;
    if (rel === "") {
      if (type === "directory") dirMeta.push([root, h.mode ?? 0o755, h.mtime]);
      await entry.body.cancel();
      continue;
    }
    checkParents(root, rel);
    const dest = join(root, rel);
    const name = basename(rel);
    mkdirSync(dirname(dest), { recursive: true });

    if (name === OPAQUE) {
      // the directory hides everything below it in lower layers
      for (const attr of ["user.overlay.opaque", "user.fuseoverlayfs.opaque"])
        lsetxattr(dirname(dest), attr, enc.encode("y"));
      await entry.body.cancel();
      continue;
    }
    if (name.startsWith(WHITEOUT)) {
      const hidden = join(dirname(dest), name.slice(WHITEOUT.length));
      removeAny(hidden);
      mknod(hidden, S_IFCHR, 0);
      own(hidden, h.uid, h.gid);
      await entry.body.cancel();
      continue;
    }

    switch (type) {
      case "directory":
        try {
          if (!lstatSync(dest).isDirectory()) removeAny(dest);
        } catch {}
        mkdirSync(dest, { recursive: true });
        own(dest, h.uid, h.gid);
        dirMeta.push([dest, h.mode ?? 0o755, h.mtime]);
        await entry.body.cancel();
        break;
      case "symlink":
        removeAny(dest);
        symlinkSync(h.linkname ?? "", dest);
        own(dest, h.uid, h.gid);
        await entry.body.cancel();
        break;
      case "link": {
        const target = entryPath(h.linkname ?? "");
        checkParents(root, target);
        removeAny(dest);
        linkSync(join(root, target), dest);
        await entry.body.cancel();
        break;
      }
      case "file": {
        const data = new Uint8Array(await new Response(entry.body).arrayBuffer());
        removeAny(dest);
        writeFileSync(dest, data, { mode: 0o600 });
        // chown before chmod: chown clears the setuid and setgid bits
        own(dest, h.uid, h.gid);
        chmodSync(dest, h.mode ?? 0o644);
        if (h.mtime) utimesSync(dest, h.mtime, h.mtime);
        break;
      }
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
  // directories last, so writing their contents does not disturb their modes and times
  for (const [dir, mode, mtime] of dirMeta.reverse()) {
    chmodSync(dir, mode);
    if (mtime) utimesSync(dir, mtime, mtime);
  }
  return report;
}
