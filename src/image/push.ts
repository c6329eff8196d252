// `hull push`: an image of the store to a registry. Blobs the repository has already are skipped
// (HEAD), blobs another repository of the same registry has are mounted from it, the rest uploaded
// (one PUT, or PATCH chunks for a large one); then the manifest, which is written anew in OCI form.
import { ociLayerType } from "./archive";
import { sha256 } from "./digest";
import { findImage } from "./lookup";
import { MEDIA } from "./manifest";
import { formatReference, parseReference } from "./reference";
import { Registry } from "./registry";
import type { ImageStore } from "./store";

const PARALLEL = 3;

export async function push(store: ImageStore, name: string, say: (line: string) => void = () => {}): Promise<string> {
  const ref = parseReference(name);
  if (ref.digest) throw new Error(`push takes a tag, not a digest: ${name}`);
  const found = findImage(store, name);
  if (!found) throw new Error(`no such image: ${name}`);
  const { record } = found;
  const registry = new Registry(ref.domain);
  const chunk = Number(process.env.HULL_UPLOAD_CHUNK ?? 8 * 1024 * 1024);
  // a repository of the same registry that has this image, to mount blobs from
  const index = store.tags();
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
        await registry.uploadBlob(ref.path, b.digest, Bun.file(store.blobPath(b.digest)), b.size, chunk);
        say(`  ${short}: uploaded ${b.size} bytes`);
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
