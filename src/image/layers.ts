// Unpacking and removing layers happen as root in the user namespace (runtime/userns-exec.ts), where
// every id of the container's range can own files: unpacking by hull itself re-executed there
// (`hull __unpack-layer`), removal by the shim's `remove` mode.
import { removeInUserNamespace, runInUserNamespace } from "../runtime/userns-exec";
import { contentMismatch, digestHex, verifyingStream } from "./digest";
import type { InflateReply, InflateRequest } from "./inflate-protocol";
import { compressionByMagic } from "./magic";
import type { ImageStore } from "./store";
import type { UnpackReport } from "./unpack";
import { tmpEntry } from "../store/tmp";

export type Compression = "none" | "gzip" | "zstd";

/** The compression a layer's MEDIA_TYPE names; undefined for a type hull does not know. */
function compressionByType(mediaType: string): Compression | undefined {
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) return "gzip";
  if (mediaType.endsWith("+zstd")) return "zstd";
  if (mediaType.endsWith(".tar") || mediaType.endsWith(".tar.foreign")) return "none";
  return undefined;
}

export function compressionOf(mediaType: string, head?: Uint8Array): Compression {
  const byType = compressionByType(mediaType);
  if (byType) return byType;
  // unknown media type: trust the magic bytes (a layer is never bzip2 or xz)
  const m = head ? compressionByMagic(head) : "none";
  return m === "gzip" || m === "zstd" ? m : "none";
}

/** Inside the namespace: blob -> decompress -> check the diff id -> files. Prints the report as JSON. */
export async function unpackInside(
  blob: string,
  mediaType: string,
  diffId: string,
  dest: string,
  follow?: { done: string; size: number },
): Promise<void> {
  const file = Bun.file(blob);
  // a blob still downloading has no head to read yet: its media type says what it is
  const c =
    follow === undefined
      ? compressionOf(mediaType, new Uint8Array(await file.slice(0, 4).arrayBuffer()))
      : compressionOf(mediaType);
  const content =
    follow !== undefined || file.size >= WORKER_FROM
      ? inflatedInWorker(blob, c, diffId, follow)
      : inflatedHere(file, c, diffId);
  const { unpackLayer } = await import("./unpack");
  const report: UnpackReport & { size?: number } = await unpackLayer(content.stream, dest, { owners: true });
  report.size = content.size();
  console.log(JSON.stringify(report));
}

/** A blob this large is decompressed and hashed by a Worker (its start, ~10 ms, would dominate a small one). */
const WORKER_FROM = 1024 * 1024;

/**
 * The worker's module: in the compiled binary an entry point of its own (the Makefile names it),
 * found by its path under the entry points' common root (src/), since this code runs from a chunk.
 */
function workerEntry(): string {
  return Bun.main.startsWith("/$bunfs/")
    ? "/$bunfs/root/image/inflate-worker.ts"
    : new URL("./inflate-worker.ts", import.meta.url).href;
}

interface Inflated {
  stream: ReadableStream<Uint8Array>;
  /** the uncompressed size, once the stream has ended */
  size(): number;
}

function inflatedHere(file: Blob, c: Compression, diffId: string): Inflated {
  let stream: ReadableStream<Uint8Array> = file.stream();
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
  return { stream: counted.pipeThrough(verifyingStream(diffId)), size: () => size };
}

function inflatedInWorker(
  blob: string,
  c: Compression,
  diffId: string,
  follow?: { done: string; size: number },
): Inflated {
  digestHex(diffId);
  const worker = new Worker(workerEntry());
  const replies: InflateReply[] = [];
  let waiting: (() => void) | undefined;
  let size = 0;
  worker.onmessage = (e: MessageEvent<InflateReply>) => {
    replies.push(e.data);
    waiting?.();
  };
  worker.onerror = (e) => {
    replies.push({ error: e.message });
    waiting?.();
  };
  const request: InflateRequest = { blob, compression: c, ...(follow !== undefined ? { follow } : {}) };
  worker.postMessage(request);
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      while (replies.length === 0) await new Promise<void>((r) => (waiting = r));
      waiting = undefined;
      const reply = replies.shift() as InflateReply;
      if ("chunk" in reply) {
        const ack: InflateRequest = { ack: reply.chunk.length };
        worker.postMessage(ack);
        ctl.enqueue(reply.chunk);
        return;
      }
      worker.terminate();
      if ("error" in reply) ctl.error(new Error(reply.error));
      else if (reply.end.digest !== diffId) ctl.error(contentMismatch(diffId, reply.end.digest));
      else {
        size = reply.end.size;
        ctl.close();
      }
    },
    cancel() {
      worker.terminate();
    },
  });
  return { stream, size: () => size };
}

/** A blob this large is unpacked while it downloads (a smaller one first downloads, then unpacks). */
const FOLLOW_FROM = WORKER_FROM;

/**
 * Download blob DIGEST of SIZE bytes from BODY into the store and unpack its layer DIFF_ID; a large
 * one is unpacked while it downloads (the unpacker follows the blob's temp file), so the time of
 * the two is about the longer one's, not their sum. Either failing fails both.
 */
export async function downloadAndUnpack(
  store: ImageStore,
  layer: { digest: string; size: number; mediaType: string },
  diffId: string,
  body: ReadableStream<Uint8Array>,
): Promise<{ size: number; skipped: string[] }> {
  // a media type hull does not know is told by the blob's first bytes, which must be there first
  if (layer.size < FOLLOW_FROM || store.hasLayer(diffId) || compressionByType(layer.mediaType) === undefined) {
    await store.putBlob(layer.digest, body, layer.size);
    return ensureUnpacked(store, layer.digest, layer.mediaType, diffId);
  }
  let ready!: (path: string) => void;
  let failed!: (e: unknown) => void;
  const tmp = new Promise<string>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const download = store.putBlob(layer.digest, body, layer.size, ready);
  // a download that fails before its temp file exists fails the unpacking too, which would wait for it
  download.catch(failed);
  const unpack = tmp.then((path) =>
    ensureUnpacked(store, layer.digest, layer.mediaType, diffId, { path, size: layer.size }),
  );
  const [d, u] = await Promise.allSettled([download, unpack]);
  // the download's own error says more than the unpacker's "stopped before its end"
  if (d.status === "rejected") throw d.reason;
  if (u.status === "rejected") throw u.reason;
  return u.value;
}

/**
 * The diffSize fields of an image's layer records, each blob of MEDIA_TYPE: UNPACKED (the size
 * ensureUnpacked just measured), else what another image's record knows of layer DIFF_ID; none for
 * an uncompressed blob (its size is the layer's). The store's records are read once, and only when
 * a layer needs them.
 */
export function diffSizesOf(
  store: ImageStore,
  layers: { diffId: string; mediaType: string; unpacked?: number }[],
): { diffSize?: number }[] {
  let known: Map<string, number> | undefined;
  const knownSize = (diffId: string) => {
    if (!known) {
      known = new Map();
      for (const img of store.images())
        for (const l of img.layers) {
          const size = l.diffSize ?? (compressionOf(l.mediaType) === "none" ? l.size : undefined);
          if (size !== undefined && !known.has(l.diffId)) known.set(l.diffId, size);
        }
    }
    return known.get(diffId);
  };
  return layers.map(({ diffId, mediaType, unpacked }) => {
    if (compressionOf(mediaType) === "none") return {};
    const size = unpacked || knownSize(diffId);
    return size === undefined ? {} : { diffSize: size };
  });
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
  downloading?: { path: string; size: number },
): Promise<{ size: number; skipped: string[] }> {
  const { mkdirSync, renameSync } = await import("node:fs");
  if (store.hasLayer(diffId)) return { size: 0, skipped: [] };
  mkdirSync(store.paths.layers, { recursive: true });
  mkdirSync(store.paths.tmp, { recursive: true });
  const tmp = tmpEntry(store.paths, "layer");
  let stdout = "";
  const source = downloading
    ? [downloading.path, mediaType, diffId, tmp, String(downloading.size), store.blobPath(digest)]
    : [store.blobPath(digest), mediaType, diffId, tmp];
  const r = await runInUserNamespace(["__unpack-layer", ...source], {}, (s) => {
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
