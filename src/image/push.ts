// `hull push`: an image of the store to a registry. Blobs the repository has already are skipped
// (HEAD), blobs another repository of the same registry has are mounted from it, the rest uploaded
// (one PUT, or PATCH chunks for a large one); then the manifest, which is written anew in OCI form.
import { ociLayerType } from "./archive";
import { sha256 } from "./digest";
import { findImage } from "./lookup";
import { MEDIA } from "./manifest";
import { formatReference, parseReference } from "./reference";
import { Registry } from "./registry";
import { compressionOf } from "./layers";
import type { ImageRecord, ImageStore } from "./store";
import { tmpEntry } from "../store/tmp";

const PARALLEL = 3;

export async function push(
  store: ImageStore,
  name: string,
  say: (line: string) => void = () => {},
  /** bytes of a blob sent so far (a large one by chunks): a terminal's progress */
  bytes?: (id: string, done: number, total: number) => void,
): Promise<string> {
  const ref = parseReference(name);
  if (ref.digest) throw new Error(`push takes a tag, not a digest: ${name}`);
  const found = findImage(store, name);
  if (!found) throw new Error(`no such image: ${name}`);
  // layers made here (build, commit, import) are kept uncompressed; they go out gzipped, as docker
  // and podman push them, and the image record keeps the compressed blob for the next push
  const record = await compressLayers(store, found.record, say);
  const registry = new Registry(ref.domain);
  const chunk = Number(process.env.HULL_UPLOAD_CHUNK ?? 8 * 1024 * 1024);
  // a repository of the same registry that has this image, to mount blobs from
  const index = store.readableTags();
  const sibling = Object.entries({ ...index.tags, ...index.digests })
    .filter(([, id]) => id === record.id)
    .map(([k]) => parseReference(k))
    .find((r) => r.domain === ref.domain && r.path !== ref.path)?.path;

  const configSize = Bun.file(store.blobPath(record.id)).size;
  const blobs = [
    { digest: record.id, size: configSize },
    ...record.layers.map((l) => ({ digest: l.digest, size: l.size })),
  ];
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const b = blobs[next++] as { digest: string; size: number };
      const short = b.digest.slice(7, 19);
      if (await registry.hasBlob(ref.path, b.digest)) {
        say(`  ${short}: already there`);
      } else if (sibling && (await registry.mountBlob(ref.path, b.digest, sibling))) {
        say(`  ${short}: mounted from ${sibling}`);
      } else {
        bytes?.(short, 0, b.size);
        await registry.uploadBlob(ref.path, b.digest, Bun.file(store.blobPath(b.digest)), b.size, chunk, (n) =>
          bytes?.(short, n, b.size),
        );
        if (!bytes) say(`  ${short}: uploaded ${b.size} bytes`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, blobs.length) }, worker));

  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: record.id, size: configSize },
      layers: record.layers.map((l) => ({ mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.size })),
    }),
  );
  const digest = sha256(manifest);
  await registry.putManifest(ref.path, ref.tag as string, manifest, MEDIA.ociManifest);
  await store.editTags((idx) => {
    idx.digests[`${ref.domain}/${ref.path}@${digest}`] = record.id;
  });
  say(`${formatReference(ref)}: ${digest}`);
  return digest;
}

const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

async function compressLayers(
  store: ImageStore,
  record: ImageRecord,
  say: (line: string) => void,
): Promise<ImageRecord> {
  // a pulled image goes out as it came, its manifest's blobs re-used
  if (record.manifestDigest || record.layers.every((l) => compressionOf(l.mediaType) !== "none")) return record;
  return store.contentLock(async () => {
    const { mkdirSync, rmSync } = await import("node:fs");
    const layers: ImageRecord["layers"] = [];
    for (const l of record.layers) {
      if (compressionOf(l.mediaType) !== "none") {
        layers.push(l);
        continue;
      }
      mkdirSync(store.paths.tmp, { recursive: true });
      const tmp = tmpEntry(store.paths, "gzip");
      try {
        const hasher = new Bun.CryptoHasher("sha256");
        const sink = Bun.file(tmp).writer();
        let size = 0;
        try {
          const gz = Bun.file(store.blobPath(l.digest))
            .stream()
            .pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
          for await (const chunk of gz) {
            hasher.update(chunk);
            size += chunk.length;
            sink.write(chunk);
          }
        } finally {
          await sink.end();
        }
        const digest = `sha256:${hasher.digest("hex")}`;
        if (!store.hasBlob(digest)) await store.putBlob(digest, Bun.file(tmp).stream(), size);
        say(`  ${l.diffId.slice(7, 19)}: compressed ${l.size} -> ${size} bytes`);
        layers.push({ digest, diffId: l.diffId, size, mediaType: GZIP_LAYER, diffSize: l.size });
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    const next = { ...record, layers };
    await store.putImage(next);
    return next;
  });
}
