// --cache-to and --cache-from: the build cache of one build carried to another machine (a CI runner
// with an empty store), as docker buildx carries it, in a directory (an OCI image layout) or a
// registry. The cache travels as one OCI manifest: its config is hull's list of cache entries
// (step key -> the config and layers that step made) and metadata marks, its layers every blob those
// entries name. Imported entries are trusted no more than a pulled image: every blob is checked
// against its digest as it arrives and every layer against its diff id, and a blob is fetched
// only when a step of this build asks for its entry.
import { copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "../sys/path";
import * as v from "valibot";
import { parseImageConfig } from "../image/config";
import { sha256 } from "../image/digest";
import { ensureUnpacked } from "../image/layers";
import { MEDIA } from "../image/manifest";
import { parseReference } from "../image/reference";
import { readCapped, Registry } from "../image/registry";
import type { ImageStore } from "../image/store";
import { DigestSchema, ImageLayersSchema } from "../image/store";
import { schemaProblem } from "../image/schema-problem";
import { writeFileAtomic } from "../store/atomic";
import { readFileText } from "../sys/libc";
import type { CacheEntry } from "./cache";

export const CACHE_CONFIG_TYPE = "application/vnd.hull.build-cache.v1+json";
const REF_NAME = "org.opencontainers.image.ref.name";
const MAX_BUNDLE = 64 * 1024 * 1024;

export type CacheSource = { kind: "local"; dir: string } | { kind: "registry"; ref: string };
export type CacheTarget = CacheSource & { mode: "min" | "max" };

/** KEY=VALUE pairs of a --cache-* value; a bare value is a registry reference (docker's short form). */
function pairs(flag: string, spec: string, known: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!spec.includes("=")) return new Map([["type", "registry"], ["ref", spec]]);
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || !known.includes(key)) throw new Error(`${flag} ${spec}: unknown option "${part}" (it takes ${known.join(", ")})`);
    out.set(key, part.slice(eq + 1));
  }
  return out;
}

function source(flag: string, spec: string, dirKey: "src" | "dest", extra: string[]): CacheSource & { opts: Map<string, string> } {
  const p = pairs(flag, spec, ["type", "ref", dirKey, ...extra]);
  const type = p.get("type") ?? "registry";
  if (type === "local") {
    const dir = p.get(dirKey);
    if (!dir) throw new Error(`${flag} type=local needs ${dirKey}=DIR`);
    return { kind: "local", dir, opts: p };
  }
  if (type === "registry") {
    const ref = p.get("ref");
    if (!ref) throw new Error(`${flag} type=registry needs ref=NAME[:TAG]`);
    let digest: string | undefined;
    try {
      digest = parseReference(ref).digest;
    } catch (e) {
      throw new Error(`${flag} ref=${ref}: ${(e as Error).message}`);
    }
    if (digest && dirKey === "dest") throw new Error(`${flag} ref=${ref}: a cache is written under a tag, not a digest`);
    return { kind: "registry", ref, opts: p };
  }
  throw new Error(`${flag} type=${type} is not supported: hull reads and writes type=local and type=registry`);
}

export function parseCacheFrom(spec: string): CacheSource {
  const { opts: _, ...s } = source("--cache-from", spec, "src", []);
  return s;
}

export function parseCacheTo(spec: string): CacheTarget {
  const { opts, ...s } = source("--cache-to", spec, "dest", ["mode", "compression", "oci-mediatypes", "ignore-error"]);
  const mode = opts.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max") throw new Error(`--cache-to mode=${mode}: give min or max`);
  return { ...s, mode };
}

const Hex = v.pipe(v.string(), v.regex(/^[a-f0-9]{64}$/));
const CacheEntrySchema = v.object({ config: DigestSchema, layers: ImageLayersSchema });
const Bundle = v.object({
  hull: v.literal("build-cache/1"),
  entries: v.record(Hex, CacheEntrySchema),
  /** a metadata step's time: an RFC 3339 date as hull writes them */
  marks: v.record(Hex, v.pipe(v.string(), v.isoTimestamp("a mark's time is an RFC 3339 date"))),
});
type Bundle = v.InferOutput<typeof Bundle>;

const Descriptor = v.object({
  mediaType: v.string(),
  digest: v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/)),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
const CacheManifest = v.object({ schemaVersion: v.literal(2), config: Descriptor, layers: v.array(Descriptor) });
const LayoutIndex = v.object({
  manifests: v.array(v.object({ digest: Descriptor.entries.digest, annotations: v.optional(v.record(v.string(), v.string())) })),
});

function parse<T>(schema: v.GenericSchema<unknown, T>, bytes: Uint8Array, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${what} is not JSON`);
  }
  const r = v.safeParse(schema, json);
  if (!r.success) throw new Error(`${what} is not a hull build cache: ${schemaProblem(r.issues)}`);
  return r.output;
}

function verified(bytes: Uint8Array, digest: string, what: string): Uint8Array {
  if (sha256(bytes) !== digest) throw new Error(`${what}: its content does not match its digest ${digest}`);
  return bytes;
}

/** Where an imported cache's blobs come from. */
interface BlobSource {
  bytes(digest: string, what: string): Promise<Uint8Array>;
  /** into the store, checked against DIGEST as it streams */
  store(store: ImageStore, digest: string, size: number): Promise<void>;
}

function localSource(dir: string): BlobSource {
  const path = (digest: string) => join(dir, "blobs", "sha256", digest.slice(7));
  return {
    async bytes(digest, what) {
      const file = Bun.file(path(digest));
      if (!(await file.exists())) throw new Error(`${what}: ${path(digest)} is missing`);
      if (file.size > MAX_BUNDLE) throw new Error(`${what} is larger than ${MAX_BUNDLE} bytes`);
      return verified(new Uint8Array(await file.arrayBuffer()), digest, what);
    },
    async store(store, digest, size) {
      const file = Bun.file(path(digest));
      if (!(await file.exists())) throw new Error(`the cache in ${dir} lacks the blob ${digest}`);
      await store.putBlob(digest, file.stream(), size);
    },
  };
}

function registrySource(ref: string): { blobs: BlobSource; manifest: () => Promise<Uint8Array> } {
  const r = parseReference(ref);
  const registry = new Registry(r.domain);
  return {
    manifest: async () => (await registry.manifest(r.path, r.digest ?? r.tag ?? "latest")).bytes,
    blobs: {
      async bytes(digest, what) {
        const res = new Response(await registry.blob(r.path, digest));
        return verified(await readCapped(res, MAX_BUNDLE, what), digest, what);
      },
      async store(store, digest, size) {
        await store.putBlob(digest, await registry.blob(r.path, digest), size);
      },
    },
  };
}

/** The caches --cache-from names, read when the first step misses in the store's own cache. */
export class ImportedCache {
  private loaded?: { bundle: Bundle; blobs: BlobSource }[];

  constructor(
    private readonly sources: CacheSource[],
    private readonly say: (line: string) => void,
  ) {}

  private async load(): Promise<{ bundle: Bundle; blobs: BlobSource }[]> {
    if (this.loaded) return this.loaded;
    this.loaded = [];
    for (const s of this.sources) {
      const name = s.kind === "local" ? s.dir : s.ref;
      try {
        let manifestBytes: Uint8Array;
        let blobs: BlobSource;
        if (s.kind === "local") {
          const text = readFileText(join(s.dir, "index.json"));
          if (text === undefined) throw new Error("no index.json there");
          const index = parse(LayoutIndex, new TextEncoder().encode(text), "its index.json");
          const desc = index.manifests.find((m) => m.annotations?.[REF_NAME] === "hull-build-cache") ?? index.manifests[0];
          if (!desc) throw new Error("its index.json lists no manifest");
          blobs = localSource(s.dir);
          manifestBytes = await blobs.bytes(desc.digest, "its manifest");
        } else {
          const reg = registrySource(s.ref);
          blobs = reg.blobs;
          manifestBytes = await reg.manifest();
        }
        const manifest = parse(CacheManifest, manifestBytes, "its manifest");
        if (manifest.config.mediaType !== CACHE_CONFIG_TYPE) throw new Error("it is not a hull build cache");
        const bundle = parse(Bundle, await blobs.bytes(manifest.config.digest, "its cache list"), "its cache list");
        this.loaded.push({ bundle, blobs });
        this.say(`cache from ${name}: ${Object.keys(bundle.entries).length} steps`);
      } catch (e) {
        // as docker: a cache that cannot be read makes a slower build, not a failed one
        this.say(`[Warning] cache from ${name} not used: ${(e as Error).message}`);
      }
    }
    return this.loaded;
  }

  /** The time of metadata step KEY, when an imported cache has it. */
  async mark(key: string): Promise<string | undefined> {
    for (const { bundle } of await this.load()) if (Object.hasOwn(bundle.marks, key)) return bundle.marks[key];
    return undefined;
  }

  /** Layer step KEY from an imported cache, its blobs fetched and layers unpacked into the store. */
  async entry(store: ImageStore, key: string): Promise<CacheEntry | undefined> {
    for (const { bundle, blobs } of await this.load()) {
      const e = bundle.entries[key];
      if (!e) continue;
      try {
        // the config must be an image config whose layers are the entry's: else a cache could give
        // an image the id of one build and the files of another
        const bytes = store.hasBlob(e.config)
          ? await store.readBlob(e.config)
          : await blobs.bytes(e.config, `cached config ${e.config}`);
        const config = parseImageConfig(new TextDecoder().decode(bytes), `cached config ${e.config}`);
        const diffIds = e.layers.map((l) => l.diffId);
        if (config.rootfs.diff_ids.join() !== diffIds.join())
          throw new Error(`its config names other layers than the entry (${config.rootfs.diff_ids.length} against ${diffIds.length})`);
        if (!store.hasBlob(e.config)) await store.putBlob(e.config, new Blob([bytes]).stream(), bytes.length);
        for (const l of e.layers) {
          if (!store.hasBlob(l.digest)) await blobs.store(store, l.digest, l.size);
          await ensureUnpacked(store, l.digest, l.mediaType, l.diffId);
        }
        return e;
      } catch (err) {
        // a blob that is missing or not what its digest says: the step runs instead
        this.say(`[Warning] cached step ${key.slice(0, 12)} not used: ${(err as Error).message}`);
      }
    }
    return undefined;
  }
}

/** What one build used of the cache: written by --cache-to. */
export interface UsedCache {
  entries: Map<string, CacheEntry>;
  marks: Map<string, string>;
}

/** --cache-to: the steps of this build (USED), with every blob they name, at TARGET. */
export async function exportCache(store: ImageStore, target: CacheTarget, used: UsedCache): Promise<string> {
  const bundle: Bundle = {
    hull: "build-cache/1",
    entries: Object.fromEntries(used.entries),
    marks: Object.fromEntries(used.marks),
  };
  const bundleBytes = new TextEncoder().encode(JSON.stringify(bundle));
  const blobs = new Map<string, { mediaType: string; size: number }>();
  for (const e of used.entries.values()) {
    blobs.set(e.config, { mediaType: MEDIA.ociConfig, size: Bun.file(store.blobPath(e.config)).size });
    for (const l of e.layers) blobs.set(l.digest, { mediaType: l.mediaType, size: l.size });
  }
  const config = { mediaType: CACHE_CONFIG_TYPE, digest: sha256(bundleBytes), size: bundleBytes.length };
  const manifestBytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config,
      layers: [...blobs].map(([digest, b]) => ({ mediaType: b.mediaType, digest, size: b.size })),
    }),
  );
  const manifestDigest = sha256(manifestBytes);
  if (target.kind === "local") {
    const dir = join(target.dir, "blobs", "sha256");
    mkdirSync(dir, { recursive: true });
    // blobs are named by content: one already there is the same, and stays
    const blob = (digest: string) => join(dir, digest.slice(7));
    for (const digest of blobs.keys()) {
      if (existsSync(blob(digest))) continue;
      const tmp = `${blob(digest)}.hull-${process.pid}`;
      copyFileSync(store.blobPath(digest), tmp);
      renameSync(tmp, blob(digest));
    }
    if (!existsSync(blob(config.digest))) writeFileAtomic(blob(config.digest), bundleBytes);
    if (!existsSync(blob(manifestDigest))) writeFileAtomic(blob(manifestDigest), manifestBytes);
    writeFileAtomic(join(target.dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    // last: a reader sees the old cache or the new one, never an index naming missing blobs
    writeFileAtomic(
      join(target.dir, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: MEDIA.ociManifest,
            digest: manifestDigest,
            size: manifestBytes.length,
            annotations: { [REF_NAME]: "hull-build-cache" },
          },
        ],
      }),
    );
    return manifestDigest;
  }
  const ref = parseReference(target.ref);
  const registry = new Registry(ref.domain);
  for (const [digest, b] of blobs) {
    if (!(await registry.hasBlob(ref.path, digest)))
      await registry.uploadBlob(ref.path, digest, Bun.file(store.blobPath(digest)), b.size);
  }
  if (!(await registry.hasBlob(ref.path, config.digest)))
    await registry.uploadBlob(ref.path, config.digest, new Blob([bundleBytes]), bundleBytes.length);
  await registry.putManifest(ref.path, ref.tag ?? "latest", manifestBytes, MEDIA.ociManifest);
  return manifestDigest;
}
