// From a name the user gives to an image in the store: tags and digests by their normalised
// reference, image ids by prefix. The embedded busybox enters the store as an ordinary image the
// first time it is asked for, so `hull run busybox` works offline.
import { type ImageConfig, parseImageConfig } from "./config";
import { embeddedConfigText, embeddedLayer, isEmbedded } from "./embedded";
import { sha256 } from "./digest";
import { ensureUnpacked } from "./layers";
import { parseReference } from "./reference";
import type { ImageRecord, ImageStore } from "./store";
import { readFileText } from "../sys/libc";

export interface FoundImage {
  record: ImageRecord;
  config: ImageConfig;
}

export function findImage(store: ImageStore, name: string): FoundImage | undefined {
  const index = store.tags();
  let id: string | undefined;
  if (/^(sha256:)?[a-f0-9]{4,64}$/.test(name)) {
    const hex = name.replace(/^sha256:/, "");
    const ids = new Set(
      [...Object.values(index.tags), ...Object.values(index.digests)].filter((i) => i.slice(7).startsWith(hex)),
    );
    if (ids.size > 1) throw new Error(`image id prefix ${name} is ambiguous: give more digits`);
    id = [...ids][0];
  }
  if (!id) {
    const ref = parseReference(name);
    id = ref.digest
      ? index.digests[`${ref.domain}/${ref.path}@${ref.digest}`]
      : index.tags[`${ref.domain}/${ref.path}:${ref.tag}`];
  }
  if (!id) return undefined;
  const record = store.image(id);
  if (!record) return undefined;
  const text = readFileText(store.blobPath(record.id));
  if (text === undefined) throw new Error(`image ${name}: its config blob ${record.id} is missing from the store`);
  return { record, config: parseImageConfig(text, name) };
}

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

export async function findOrSeed(store: ImageStore, name: string): Promise<FoundImage | undefined> {
  const found = findImage(store, name);
  if (found) return found;
  return isEmbedded(name) ? seedEmbedded(store) : undefined;
}
