import { join } from "node:path";
import { accessible, F_OK } from "../sys/libc";
import type { StorePaths } from "../store/paths";

/** Directory of an unpacked layer, named by its diff id (the sha256 of the uncompressed tar). */
export function layerDir(paths: StorePaths, diffId: string): string {
  return join(paths.layers, diffId.replace("sha256:", ""));
}

/**
 * Make sure the layer with DIFF_ID is unpacked, reading the tar from OPEN only when it is not.
 * Two hull processes may race here: each unpacks into its own temp dir and renames it into place;
 * the loser's copy is discarded, so a reader never sees a half-unpacked layer.
 */
export async function ensureLayer(
  paths: StorePaths,
  diffId: string,
  open: () => ReadableStream<Uint8Array>,
): Promise<string> {
  const dir = layerDir(paths, diffId);
  if (accessible(dir, F_OK)) return dir;
  // the cold path: node:fs and the tar decoder load only here, never on a warm `hull run`
  const { mkdirSync, renameSync, rmSync } = await import("node:fs");
  const { unpackLayer } = await import("./unpack");
  const { randomBytes } = await import("node:crypto");
  mkdirSync(paths.layers, { recursive: true });
  mkdirSync(paths.tmp, { recursive: true });
  const tmp = join(paths.tmp, `layer-${randomBytes(6).toString("hex")}`);
  try {
    await unpackLayer(open(), tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
