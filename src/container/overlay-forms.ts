// How an overlay's writable layer records deletions, in the two forms hull meets: the kernel's (a 0:0
// character device for a deleted path, the user.overlay.opaque xattr for a directory that hides
// what is below) and fuse-overlayfs's, which may also write `.wh.NAME` files and marker entries.
import { join } from "../sys/path";
import { lgetxattr } from "../sys/libc";

/** fuse-overlayfs's markers of an opaque directory: not entries of the layer. */
export const OPAQUE_MARKERS = [".wh..wh..opq", ".wh..opq"];

/** The path NAME (an entry of a writable layer, lstat'ed as ST) deletes, or undefined. */
export function whiteoutOf(
  name: string,
  st: { isCharacterDevice(): boolean; isFile(): boolean; rdev: number },
): string | undefined {
  if (st.isCharacterDevice() && st.rdev === 0) return name;
  if (st.isFile() && name.startsWith(".wh.") && !OPAQUE_MARKERS.includes(name)) return name.slice(4);
  return undefined;
}

/** An opaque directory: the kernel's xattr, fuse-overlayfs's own, or its marker entries. */
export function isOpaque(dir: string): boolean {
  const { lstatSync } = require("node:fs") as typeof import("node:fs");
  const y = (x: string) => new TextDecoder().decode(lgetxattr(dir, x) ?? new Uint8Array()) === "y";
  const has = (name: string) => {
    try {
      lstatSync(join(dir, name));
      return true;
    } catch {
      return false;
    }
  };
  return y("user.overlay.opaque") || y("user.fuseoverlayfs.opaque") || OPAQUE_MARKERS.some(has);
}
