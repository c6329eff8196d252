// Unpacking and removing layers happen as root in the user namespace (runtime/userns-exec.ts), where
// every id of the container's range can own files: unpacking by hull itself re-executed there
// (`hull __unpack-layer`), removal by the shim's `remove` mode.
import { removeInUserNamespace, runInUserNamespace } from "../runtime/userns-exec";
import { verifyingStream } from "./digest";
import { compressionByMagic } from "./magic";
import type { ImageStore } from "./store";
import type { UnpackReport } from "./unpack";
import { tmpEntry } from "../store/tmp";

export type Compression = "none" | "gzip" | "zstd";

export function compressionOf(mediaType: string, head?: Uint8Array): Compression {
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) return "gzip";
  if (mediaType.endsWith("+zstd")) return "zstd";
  if (mediaType.endsWith(".tar") || mediaType.endsWith(".tar.foreign")) return "none";
  // unknown media type: trust the magic bytes (a layer is never bzip2 or xz)
  const m = head ? compressionByMagic(head) : "none";
  return m === "gzip" || m === "zstd" ? m : "none";
}

/** Inside the namespace: blob -> decompress -> check the diff id -> files. Prints the report as JSON. */
export async function unpackInside(blob: string, mediaType: string, diffId: string, dest: string): Promise<void> {
  const file = Bun.file(blob);
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  let stream: ReadableStream<Uint8Array> = file.stream();
  const c = compressionOf(mediaType, head);
  if (c !== "none")
    stream = stream.pipeThrough(
      new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  let size = 0;
  const counted = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        size += chunk.length;
        ctl.enqueue(chunk);
      },
    }),
  );
  const { unpackLayer } = await import("./unpack");
  const report: UnpackReport & { size?: number } = await unpackLayer(
    counted.pipeThrough(verifyingStream(diffId)),
    dest,
    {
      owners: true,
    },
  );
  report.size = size;
  console.log(JSON.stringify(report));
}

/** Remove PATHS, which may hold files of subordinate ids, through the user namespace. */
export async function removeTree(...paths: string[]): Promise<void> {
  return removeTreeIn(undefined, ...paths);
}

/** removeTree in the store whose networks directory is HOLDER_DIR: its live holder's namespace serves. */
export async function removeTreeIn(holderDir: string | undefined, ...paths: string[]): Promise<void> {
  const r = await removeInUserNamespace(paths, holderDir);
  if (r.code !== 0) throw new Error(`cannot remove ${paths.join(" ")}: ${r.stderr.trim()}`);
}

/**
 * Unpack the layer blob DIGEST (whose uncompressed tar hashes to DIFF_ID) into the store, once:
 * into a temp directory first, renamed into place when complete, so a reader never sees half a layer
 * and a second hull unpacking the same layer only loses the race.
 */
export async function ensureUnpacked(
  store: ImageStore,
  digest: string,
  mediaType: string,
  diffId: string,
): Promise<{ size: number; skipped: string[] }> {
  const { mkdirSync, renameSync } = await import("node:fs");
  if (store.hasLayer(diffId)) return { size: 0, skipped: [] };
  mkdirSync(store.paths.layers, { recursive: true });
  mkdirSync(store.paths.tmp, { recursive: true });
  const tmp = tmpEntry(store.paths, "layer");
  let stdout = "";
  const r = await runInUserNamespace(["__unpack-layer", store.blobPath(digest), mediaType, diffId, tmp], {}, (s) => {
    stdout = s;
  });
  if (r.code !== 0) {
    await removeTree(tmp).catch(() => {});
    throw new Error(`unpacking layer ${digest} failed: ${r.stderr.trim().split("\n").at(-1)}`);
  }
  try {
    renameSync(tmp, store.layerDir(diffId));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    await removeTree(tmp);
  }
  try {
    const report = JSON.parse(stdout) as { size?: number; skippedSpecial?: string[] };
    return { size: report.size ?? 0, skipped: report.skippedSpecial ?? [] };
  } catch {
    return { size: 0, skipped: [] };
  }
}
