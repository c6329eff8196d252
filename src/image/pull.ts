// `hull pull`: manifest (resolving an index to one platform), config, layers in parallel (bounded),
// each verified against its digest while it streams into the store, then unpacked once per diff id.
import { parseImageConfig } from "./config";
import { counting } from "./counting";
import { diffSizesOf, downloadAndUnpack, ensureUnpacked } from "./layers";
import { hostPlatform, parseManifest, type Platform, selectPlatform } from "./manifest";
import { formatReference, nameCandidates, parseReference, type Reference } from "./reference";
import { loadConfig } from "../store/config";
import { Registry } from "./registry";
import type { ImageRecord, ImageStore } from "./store";

export interface PullEvents {
  /** a line of progress, for a terminal or a log */
  say?: (line: string) => void;
  /** bytes of a layer received so far */
  bytes?: (id: string, done: number, total: number) => void;
}

const PARALLEL = 3;
const MAX_CONFIG = 16 * 1024 * 1024;

/**
 * FN on each of ITEMS, LIMIT at a time. After a failure no new item starts, and the first failure is
 * thrown once those running have ended: hull must not exit while a download or an unpacking still
 * runs, or its temp file or directory outlives it.
 */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      try {
        await fn(items[next++] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(workers);
  if (failure) throw failure.error;
}

export async function pull(
  store: ImageStore,
  name: string,
  opts: { platform?: Platform } & PullEvents = {},
): Promise<ImageRecord> {
  // shared: many pulls at once, but no garbage collection between storing a blob and recording it
  const rec = await store.contentLock(() => pullLocked(store, name, opts));
  const { emitEvent } = await import("../store/events");
  emitEvent(store.paths, "image", "pull", name, { name });
  return rec;
}

async function pullLocked(
  store: ImageStore,
  name: string,
  opts: { platform?: Platform } & PullEvents,
): Promise<ImageRecord> {
  const say = opts.say ?? (() => {});
  // a short name: each registry of registries.search in turn, until one has it (podman's order)
  const candidates = nameCandidates(name);
  const failures: string[] = [];
  let found: { ref: Reference; registry: Registry; m: Awaited<ReturnType<Registry["manifest"]>> } | undefined;
  for (const candidate of candidates) {
    const ref = parseReference(candidate);
    const registry = new Registry(ref.domain);
    if (candidates.length > 1) say(`Trying to pull ${formatReference(ref)}...`);
    try {
      found = { ref, registry, m: await registry.manifest(ref.path, ref.digest ?? (ref.tag as string)) };
      break;
    } catch (e) {
      if (candidates.length === 1) throw e;
      failures.push(`${formatReference(ref)}: ${(e as Error).message}`);
    }
  }
  if (!found)
    throw new Error(
      `${name} is in none of the registries of registries.search (${loadConfig().path}): ${failures.join("; ")}`,
    );
  const { ref, registry } = found;
  const origin = formatReference(ref);
  let m = found.m;
  const manifestDigest = m.digest;
  let parsed = parseManifest(m.bytes, m.contentType, origin);
  await storeBytes(store, m.digest, m.bytes);
  if (parsed.kind === "index") {
    const desc = selectPlatform(parsed.index, opts.platform ?? hostPlatform(), origin);
    m = await registry.manifest(ref.path, desc.digest);
    parsed = parseManifest(m.bytes, m.contentType, origin);
    await storeBytes(store, m.digest, m.bytes);
    if (parsed.kind !== "manifest") throw new Error(`${origin}: an index inside an index is not supported`);
  }
  const manifest = parsed.manifest;
  // the config is read into memory whole; real ones are a few KiB
  if (manifest.config.size > MAX_CONFIG)
    throw new Error(`${origin}: its config is ${manifest.config.size} bytes, more than the ${MAX_CONFIG} hull accepts`);
  if (!store.hasBlob(manifest.config.digest)) {
    await store.putBlob(
      manifest.config.digest,
      await registry.blob(ref.path, manifest.config.digest),
      manifest.config.size,
    );
  }
  const config = parseImageConfig(new TextDecoder().decode(await store.readBlob(manifest.config.digest)), origin);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new Error(`${origin}: the manifest has ${manifest.layers.length} layers, its config ${diffIds.length}`);
  }
  // the record names each layer's blob, so a blob that is missing is fetched even when its layer is
  // unpacked already (a layer made by a build has another blob; a prune killed between removing blobs
  // and layers leaves layers without theirs): else the image would name a blob it lacks
  const missing = manifest.layers.filter((l) => !store.hasBlob(l.digest)).length;
  say(`${origin}: ${manifest.layers.length} layers, ${missing} to download`);
  // each layer unpacked as soon as its blob is stored, while the others still download: layers
  // unpack into directories of their own, so their order does not matter
  const diffSizes: (number | undefined)[] = [];
  await bounded([...manifest.layers.entries()], PARALLEL, async ([i, layer]) => {
    const id = layer.digest.slice(7, 19);
    const diffId = diffIds[i] as string;
    let unpacked: { size: number; skipped: string[] };
    if (!store.hasBlob(layer.digest)) {
      const body = counting(await registry.blob(ref.path, layer.digest), (n) => opts.bytes?.(id, n, layer.size));
      unpacked = await downloadAndUnpack(store, layer, diffId, body);
      if (!opts.bytes) say(`  ${id}: downloaded ${layer.size} bytes`);
    } else unpacked = await ensureUnpacked(store, layer.digest, layer.mediaType, diffId);
    const { skipped, size } = unpacked;
    if (size > 0) diffSizes[i] = size;
    if (skipped.length > 0) {
      say(
        `  note: ${skipped.length} device node(s) skipped (a user namespace cannot create them): ${skipped.slice(0, 3).join(", ")}`,
      );
    }
  });
  const sizes = diffSizesOf(
    store,
    manifest.layers.map((l, i) => ({ diffId: diffIds[i] as string, mediaType: l.mediaType, unpacked: diffSizes[i] })),
  );
  const record: ImageRecord = {
    id: manifest.config.digest,
    manifestDigest,
    layers: manifest.layers.map((l, i) => ({
      digest: l.digest,
      diffId: diffIds[i] as string,
      size: l.size,
      mediaType: l.mediaType,
      ...sizes[i],
    })),
    created: new Date().toISOString(),
  };
  await store.putImage(record);
  await store.editTags((index) => {
    if (ref.tag) index.tags[`${ref.domain}/${ref.path}:${ref.tag}`] = record.id;
    index.digests[`${ref.domain}/${ref.path}@${manifestDigest}`] = record.id;
  });
  say(`${origin}: ${record.id}`);
  return record;
}

async function storeBytes(store: ImageStore, digest: string, bytes: Uint8Array): Promise<void> {
  if (!store.hasBlob(digest)) await store.putBlob(digest, new Blob([bytes]).stream(), bytes.length);
}
