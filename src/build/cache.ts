// The build cache: a step's key (its parent, its text, the build args it sees, the digest of what it
// copies) -> the image it made: a config blob and the layers. One small file per key, written
// atomically; an entry whose blobs or layers were removed since counts as a miss. The blobs and
// layers it names are roots for garbage collection until `hull builder prune` drops the cache.
import { join } from "../sys/path";
import * as v from "valibot";
import { sha256 } from "../image/digest";
import { ImageLayersSchema, type ImageRecord, type ImageStore } from "../image/store";
import { writeFileAtomic } from "../store/atomic";
import { mkdir, readFileText } from "../sys/libc";

const CacheEntry = v.object({ config: v.string(), layers: ImageLayersSchema });
export type CacheEntry = v.InferOutput<typeof CacheEntry>;

export function cacheDir(store: ImageStore): string {
  return join(store.paths.root, "build-cache");
}

/** JSON with every object's keys sorted, so equal values give equal keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export function cacheKey(parts: Record<string, unknown>): string {
  return sha256(canonical(parts)).slice(7);
}

/** The entry stored under KEY (a file name without .json), if it is there and well-formed. */
function entryAt(store: ImageStore, key: string): CacheEntry | undefined {
  const text = readFileText(join(cacheDir(store), `${key}.json`));
  if (text === undefined) return undefined;
  try {
    const r = v.safeParse(CacheEntry, JSON.parse(text));
    return r.success ? r.output : undefined;
  } catch {
    return undefined;
  }
}

export function readCache(store: ImageStore, key: string): CacheEntry | undefined {
  const e = entryAt(store, key);
  if (!e || !store.hasBlob(e.config)) return undefined;
  if (!e.layers.every((l) => store.hasBlob(l.digest) && store.hasLayer(l.diffId))) return undefined;
  return e;
}

export function writeCache(store: ImageStore, key: string, entry: { config: string; layers: ImageRecord["layers"] }): void {
  mkdir(store.paths.root, 0o700, true);
  mkdir(cacheDir(store), 0o700, true);
  writeFileAtomic(join(cacheDir(store), `${key}.json`), JSON.stringify(entry));
}

/**
 * A metadata step (ENV, LABEL, CMD...) leaves only a mark that it was seen, no config blob: each
 * config holds the whole history, so a blob per step grew the cache with the square of a
 * Dockerfile's length (10,000 ENV lines: 5.8 GB). Its config is written by the next layer step,
 * or the end of the build. The mark keeps the step's time, so a rebuild gives the same image id.
 */
export function seenMetadataStep(store: ImageStore, key: string): string | undefined {
  const text = readFileText(join(cacheDir(store), `${key}.json`));
  if (!text) return undefined;
  try {
    const r = v.safeParse(MetadataMark, JSON.parse(text));
    return r.success ? r.output.created : undefined;
  } catch {
    return undefined;
  }
}

const MetadataMark = v.object({ metadata: v.literal(true), created: v.string() });

export function markMetadataStep(store: ImageStore, key: string, created: string): void {
  mkdir(store.paths.root, 0o700, true);
  mkdir(cacheDir(store), 0o700, true);
  writeFileAtomic(join(cacheDir(store), `${key}.json`), JSON.stringify({ metadata: true, created }));
}

/** Every cache entry, for garbage collection's roots. */
export function cacheEntries(store: ImageStore): CacheEntry[] {
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  let names: string[] = [];
  try {
    names = readdirSync(cacheDir(store));
  } catch {}
  const out: CacheEntry[] = [];
  for (const n of names) {
    const e = /^[a-f0-9]{64}\.json$/.test(n) ? entryAt(store, n.slice(0, 64)) : undefined;
    if (e) out.push(e);
  }
  return out;
}

/** `hull builder prune`: forget every cache entry and RUN --mount cache; the number of entries. */
export async function dropCache(store: ImageStore): Promise<number> {
  const { readdirSync, rmSync } = await import("node:fs");
  let n = 0;
  let names: string[] = [];
  try {
    names = readdirSync(cacheDir(store));
  } catch {}
  if (names.includes("context")) rmSync(join(cacheDir(store), "context"), { recursive: true, force: true });
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    rmSync(join(cacheDir(store), name), { force: true });
    n++;
  }
  // cache mounts may hold files of any id of the container range
  if (names.includes("mounts")) {
    const { removeTree } = await import("../image/layers");
    await removeTree(join(cacheDir(store), "mounts"));
  }
  return n;
}
