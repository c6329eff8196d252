// The embedded busybox enters the store as an ordinary image the first time it is named.
import { parseImageConfig } from "./config";
import { sha256 } from "./digest";
import { embeddedConfigText, embeddedLayer } from "./embedded";
import { ensureUnpacked } from "./layers";
import type { FoundImage } from "./lookup";
import type { ImageRecord, ImageStore } from "./store";

/** Put the embedded busybox into the store as docker.io/library/busybox:latest. */
export async function seedEmbedded(store: ImageStore): Promise<FoundImage> {
  return store.contentLock(() => seedLocked(store));
}

async function seedLocked(store: ImageStore): Promise<FoundImage> {
  const configText = embeddedConfigText();
  const config = parseImageConfig(configText, "the embedded busybox image");
  const id = sha256(configText);
  const diffId = config.rootfs.diff_ids[0] as string;
  if (!store.hasBlob(id)) await store.putBlob(id, new Blob([configText]).stream());
  if (!store.hasBlob(diffId)) await store.putBlob(diffId, embeddedLayer());
  // the layer is an uncompressed tar, so its blob digest is its diff id
  await ensureUnpacked(store, diffId, "application/vnd.oci.image.layer.v1.tar", diffId);
  const size = Bun.file(store.blobPath(diffId)).size;
  const record: ImageRecord = {
    id,
    layers: [{ digest: diffId, diffId, size, mediaType: "application/vnd.oci.image.layer.v1.tar" }],
    created: new Date().toISOString(),
  };
  await store.putImage(record);
  await store.editTags((index) => {
    index.tags["docker.io/library/busybox:latest"] = id;
  });
  return { record, config };
}
