// Streams a layer tar (modern-tar's web-streams decoder) into a directory. Every entry is resolved
// beneath the directory: absolute names are made relative, `..` is refused, and no entry is written
// through a symlink that an earlier entry planted. Ownership, whiteouts and xattrs come with image
// pulls, when unpacking runs inside the user namespace.
import { chmodSync, lstatSync, mkdirSync, rmSync, symlinkSync, linkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTarDecoder } from "modern-tar";

export class UnsafeEntryError extends Error {}

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

export async function unpackLayer(stream: ReadableStream<Uint8Array>, root: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  const decoder = createTarDecoder();
  const entries = stream.pipeThrough(decoder);
  const dirModes: [string, number, Date | undefined][] = [];
  for await (const entry of entries) {
    const h = entry.header;
    const rel = entryPath(h.name);
    const type = h.type ?? "file";
    if (rel === "") {
      if (type === "directory") dirModes.push([root, h.mode ?? 0o755, h.mtime]);
      await entry.body.cancel();
      continue;
    }
    checkParents(root, rel);
    const dest = join(root, rel);
    mkdirSync(join(dest, ".."), { recursive: true });
    switch (type) {
      case "directory":
        mkdirSync(dest, { recursive: true });
        dirModes.push([dest, h.mode ?? 0o755, h.mtime]);
        await entry.body.cancel();
        break;
      case "symlink":
        rmSync(dest, { force: true, recursive: true });
        symlinkSync(h.linkname ?? "", dest);
        await entry.body.cancel();
        break;
      case "link": {
        const target = join(root, entryPath(h.linkname ?? ""));
        checkParents(root, entryPath(h.linkname ?? ""));
        rmSync(dest, { force: true, recursive: true });
        linkSync(target, dest);
        await entry.body.cancel();
        break;
      }
      case "file": {
        const data = new Uint8Array(await new Response(entry.body).arrayBuffer());
        rmSync(dest, { force: true, recursive: true });
        writeFileSync(dest, data, { mode: 0o600 });
        chmodSync(dest, h.mode ?? 0o644);
        if (h.mtime) utimesSync(dest, h.mtime, h.mtime);
        break;
      }
      default:
        // device nodes and fifos cannot be made without privilege; images rarely carry them
        await entry.body.cancel();
    }
  }
  // directories last, so their modes and times are not disturbed by writing their contents
  for (const [dir, mode, mtime] of dirModes.reverse()) {
    chmodSync(dir, mode);
    if (mtime) utimesSync(dir, mtime, mtime);
  }
}
