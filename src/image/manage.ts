// Docker's image management over the store: tag, rmi (untag vs delete, refused while a container
// uses the image), prune, inspect, history; and the garbage collection that follows a removal.
import { emitEvent } from "../store/events";
import { cacheEntries } from "../build/cache";
import { readDir, unlinkIfExists } from "../sys/libc";
import { join } from "../sys/path";
import { listContainers } from "../container/records";
import type { ImageConfig } from "./config";
import { removeTree } from "./layers";
import { findImage, type FoundImage } from "./lookup";
import { familiarName, parseReference } from "./reference";
import { type ImageRecord, type ImageStore, layerBytes, type TagIndex } from "./store";

export class ImageConflictError extends Error {}

function refsOf(index: TagIndex, id: string): { tags: string[]; digests: string[] } {
  return {
    tags: Object.entries(index.tags)
      .filter(([, v]) => v === id)
      .map(([k]) => k),
    digests: Object.entries(index.digests)
      .filter(([, v]) => v === id)
      .map(([k]) => k),
  };
}

function mustFind(store: ImageStore, name: string): FoundImage {
  const found = findImage(store, name);
  if (!found) throw new Error(`no such image: ${name}`);
  return found;
}

export async function tagImage(store: ImageStore, source: string, target: string): Promise<void> {
  const { record } = mustFind(store, source);
  const ref = parseReference(target);
  if (ref.digest) throw new Error(`cannot tag with a digest: ${target}`);
  await store.editTags((index) => {
    index.tags[`${ref.domain}/${ref.path}:${ref.tag}`] = record.id;
  });
  emitEvent(store.paths, "image", "tag", record.id, { name: `${familiarName(ref)}:${ref.tag}` });
}

function usersOf(store: ImageStore, id: string): string[] {
  return listContainers(store.paths)
    .filter((c) => c.imageId === id)
    .map((c) => c.id);
}

/** `hull rmi NAME`: the lines Docker prints (Untagged: ..., Deleted: ...). */
export async function removeImage(store: ImageStore, name: string, force: boolean): Promise<string[]> {
  const { record, reference } = mustFind(store, name);
  const out: string[] = [];
  const byId = /^(sha256:)?[a-f0-9]{4,64}$/.test(name) && record.id.slice(7).startsWith(name.replace(/^sha256:/, ""));
  let deleteImage = false;
  await store.editTags((index) => {
    const { tags, digests } = refsOf(index, record.id);
    const users = usersOf(store, record.id);
    let untag: string[];
    if (byId) {
      if (tags.length > 1 && !force) {
        throw new ImageConflictError(
          `image ${record.id.slice(7, 19)} is referenced by ${tags.length} tags: remove them by name, or use -f`,
        );
      }
      untag = [...tags, ...digests];
    } else {
      const ref = parseReference(reference ?? name);
      const key = ref.digest ? `${ref.domain}/${ref.path}@${ref.digest}` : `${ref.domain}/${ref.path}:${ref.tag}`;
      const remaining = tags.filter((t) => t !== key);
      untag = remaining.length === 0 ? [key, ...digests] : [key];
    }
    const last = untag.length >= tags.length + digests.length;
    if (last && users.length > 0 && !force) {
      throw new ImageConflictError(
        `image ${record.id.slice(7, 19)} is used by container ${(users[0] as string).slice(0, 12)}: remove the container first, or use -f`,
      );
    }
    for (const k of untag) {
      delete index.tags[k];
      delete index.digests[k];
      if (!k.includes("@")) out.push(`Untagged: ${familiarName(parseReference(k))}:${parseReference(k).tag}`);
    }
    deleteImage = last && users.length === 0;
  });
  if (deleteImage) {
    unlinkIfExists(store.imagePath(record.id));
    out.push(`Deleted: ${record.id}`);
    await collectGarbage(store);
  }
  for (const line of out) {
    const [what, name] = line.split(": ");
    if (what === "Untagged") emitEvent(store.paths, "image", "untag", record.id, { name: name ?? "" });
    if (what === "Deleted") emitEvent(store.paths, "image", "delete", record.id, { name: name ?? "" });
  }
  return out;
}

/** `hull image prune [-a]`: dangling images (no tag), or with ALL every image no container uses. */
export async function pruneImages(
  store: ImageStore,
  all: boolean,
  allows: (rec: ImageRecord) => boolean = () => true,
): Promise<string[]> {
  const index = store.tags();
  const tagged = new Set(Object.values(index.tags));
  const used = new Set(listContainers(store.paths).map((c) => c.imageId));
  const out: string[] = [];
  for (const rec of store.images()) {
    if (used.has(rec.id)) continue;
    if (!all && tagged.has(rec.id)) continue;
    if (!allows(rec)) continue;
    await store.editTags((idx) => {
      for (const [k, v] of [...Object.entries(idx.tags), ...Object.entries(idx.digests)]) {
        if (v !== rec.id) continue;
        delete idx.tags[k];
        delete idx.digests[k];
      }
    });
    unlinkIfExists(store.imagePath(rec.id));
    out.push(`Deleted: ${rec.id}`);
  }
  if (out.length > 0) await collectGarbage(store);
  return out;
}

/** Remove the blobs and layers no image record and no container refers to any more. */
export async function collectGarbage(store: ImageStore): Promise<void> {
  await store.contentLock(async () => {
    const keepBlobs = new Set<string>();
    const keepLayers = new Set<string>();
    for (const rec of store.images()) {
      keepBlobs.add(rec.id.slice(7));
      if (rec.manifestDigest) keepBlobs.add(rec.manifestDigest.slice(7));
      for (const l of rec.layers) {
        keepBlobs.add(l.digest.slice(7));
        keepLayers.add(l.diffId.slice(7));
      }
    }
    // the build cache's images, until `hull builder prune`
    for (const e of cacheEntries(store)) {
      keepBlobs.add(e.config.slice(7));
      for (const l of e.layers) {
        keepBlobs.add(l.digest.slice(7));
        keepLayers.add(l.diffId.slice(7));
      }
    }
    // index manifests of kept images are kept through their digests in the tag index
    for (const d of Object.keys(store.tags().digests)) keepBlobs.add(d.slice(d.indexOf("@sha256:") + 8));
    const blobDir = join(store.paths.root, "blobs", "sha256");
    for (const hex of safeList(blobDir)) if (!keepBlobs.has(hex)) unlinkIfExists(join(blobDir, hex));
    const doomed = safeList(store.paths.layers).filter((hex) => !keepLayers.has(hex) && !layerInUse(store, hex));
    if (doomed.length > 0) await removeTree(...doomed.map((hex) => join(store.paths.layers, hex)));
  }, true);
}

function layerInUse(store: ImageStore, hex: string): boolean {
  // a container whose image was force-removed still reads its layers
  return listContainers(store.paths).some(
    (c) => c.imageId && store.image(c.imageId)?.layers.some((l) => l.diffId.slice(7) === hex),
  );
}

function safeList(dir: string): string[] {
  try {
    return readDir(dir) ?? [];
  } catch {
    return [];
  }
}

/** `hull image inspect`: Docker's shape. */
export function inspectImage(store: ImageStore, name: string): Record<string, unknown> {
  const { record, config } = mustFind(store, name);
  const { tags, digests } = refsOf(store.readableTags(), record.id);
  return {
    Id: record.id,
    RepoTags: tags.map((t) => `${familiarName(parseReference(t))}:${parseReference(t).tag}`),
    RepoDigests: digests.map((d) => `${familiarName(parseReference(d))}@${parseReference(d).digest}`),
    Created: config.created ?? "",
    Architecture: config.architecture ?? "",
    Os: config.os ?? "",
    Size: record.layers.reduce((a, l) => a + layerBytes(l), 0),
    Config: config.config ?? {},
    RootFS: { Type: "layers", Layers: config.rootfs.diff_ids },
    Metadata: { PulledAt: record.created, ManifestDigest: record.manifestDigest ?? null },
  };
}

export interface HistoryRow {
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
}

/** `hull history`: newest first; only the step that made the top layer carries the image's id. */
export function imageHistory(store: ImageStore, name: string): HistoryRow[] {
  const { record, config } = mustFind(store, name);
  const history = (config.history ?? []) as Array<{
    created?: string;
    created_by?: string;
    comment?: string;
    empty_layer?: boolean;
  }>;
  const rows: HistoryRow[] = [];
  let layer = 0;
  for (const h of history) {
    const size = h.empty_layer ? 0 : (record.layers[layer++]?.size ?? 0);
    rows.push({
      id: "<missing>",
      created: h.created ?? "",
      createdBy: h.created_by ?? "",
      size,
      comment: h.comment ?? "",
    });
  }
  if (rows.length === 0) {
    for (const l of record.layers)
      rows.push({ id: "<missing>", created: "", createdBy: "", size: layerBytes(l), comment: "" });
  }
  rows.reverse();
  if (rows[0]) rows[0].id = record.id.slice(7, 19);
  return rows;
}

export type { ImageConfig, ImageRecord };
