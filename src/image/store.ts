// The content store: blobs by digest (stored once, verified while they stream in), unpacked layers by
// diff id, image records by image id (the config's digest), and one tag index. Every update is a
// write to a temp name, fsync and rename; the tag index changes only under the store's lock.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { accessible, F_OK, readDir, readFileText } from "../sys/libc";
import { writeFileAtomic } from "../store/atomic";
import { withLock } from "../store/lock";
import type { StorePaths } from "../store/paths";
import { DIGEST_RE, digestHex, verifyingStream } from "./digest";
import { tmpEntry } from "../store/tmp";

/** A sha256 digest: an image's id, a blob's, a layer's diff id. */
export const DigestSchema = lazily(() => v.pipe(v.string(), v.regex(DIGEST_RE, "a sha256 digest")));

/** An image's layers, as its record keeps them (a build's cache entries keep them too). */
export const ImageLayersSchema = lazily(() =>
  v.array(
    v.object({
      digest: DigestSchema,
      diffId: DigestSchema,
      /** the blob's size (compressed, for a pulled or pushed layer) */
      size: v.number(),
      mediaType: v.string(),
      /** the layer's uncompressed size, when its blob is compressed: what docker's SIZE adds up */
      diffSize: v.optional(v.number()),
    }),
  ),
);

export const ImageRecordSchema = lazily(() =>
  v.object({
    id: DigestSchema,
    /** digest of the manifest the image was pulled by, when it came from a registry */
    manifestDigest: v.optional(DigestSchema),
    layers: ImageLayersSchema,
    created: v.string(),
  }),
);
export type ImageRecord = v.InferOutput<typeof ImageRecordSchema>;

/** A layer's size as docker's SIZE counts it: uncompressed (an uncompressed blob's size is that). */
export const layerBytes = (l: ImageRecord["layers"][number]): number => l.diffSize ?? l.size;

export const TagIndexSchema = lazily(() =>
  v.object({
    /** "docker.io/library/busybox:latest" -> image id */
    tags: v.record(v.string(), DigestSchema),
    /** "docker.io/library/busybox@sha256:<manifest>" -> image id */
    digests: v.record(v.string(), DigestSchema),
  }),
);
export type TagIndex = v.InferOutput<typeof TagIndexSchema>;

/** A record of the store that is not whole: names its file and the fix. */
export class DamagedRecordError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path} is damaged (${why}): run hull system check --repair`);
  }
}

/** The record at PATH parsed by SCHEMA; undefined when there is none; DamagedRecordError when it is not WHAT. */
function readRecord<T>(path: string, schema: v.GenericSchema<unknown, T>, what: string): T | undefined {
  const text = readFileText(path);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DamagedRecordError(path, "not JSON");
  }
  const r = v.safeParse(schema, json);
  if (!r.success) throw new DamagedRecordError(path, `not ${what}`);
  return r.output;
}

const warned = new Set<string>();
function warnDamaged(e: DamagedRecordError): void {
  if (warned.has(e.path)) return;
  warned.add(e.path);
  console.error(`hull: warning: ${e.message}`);
}

export class ImageStore {
  constructor(readonly paths: StorePaths) {}

  blobPath(digest: string): string {
    return join(this.paths.root, "blobs", "sha256", digestHex(digest));
  }

  hasBlob(digest: string): boolean {
    return accessible(this.blobPath(digest), F_OK);
  }

  /**
   * Store STREAM as the blob DIGEST. Written under a temp name and renamed only once the digest (and
   * size, when known) matched, so an interrupted or corrupt download never becomes visible.
   * TMP_READY gets the temp file's path once it exists and before a byte is in it, for a reader that
   * follows the download (the file is renamed into place when complete, or removed when it fails).
   */
  async putBlob(
    digest: string,
    stream: ReadableStream<Uint8Array>,
    size?: number,
    tmpReady?: (path: string) => void,
  ): Promise<void> {
    const { mkdirSync, renameSync, rmSync, openSync, fsyncSync, closeSync } = await import("node:fs");
    const dest = this.blobPath(digest);
    mkdirSync(join(this.paths.root, "blobs", "sha256"), { recursive: true });
    mkdirSync(this.paths.tmp, { recursive: true });
    const tmp = tmpEntry(this.paths, "blob");
    try {
      if (tmpReady) {
        closeSync(openSync(tmp, "wx"));
        tmpReady(tmp);
      }
      const sink = Bun.file(tmp).writer();
      try {
        for await (const chunk of stream.pipeThrough(verifyingStream(digest, size))) sink.write(chunk);
      } finally {
        // ended before the temp file goes: a writer still holding data would write it back
        await sink.end();
      }
      const fd = openSync(tmp, "r");
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async readBlob(digest: string): Promise<Uint8Array> {
    return new Uint8Array(await Bun.file(this.blobPath(digest)).arrayBuffer());
  }

  layerDir(diffId: string): string {
    return join(this.paths.layers, digestHex(diffId));
  }

  hasLayer(diffId: string): boolean {
    // a layer directory appears by rename once it is complete
    return accessible(this.layerDir(diffId), F_OK);
  }

  imagePath(id: string): string {
    return join(this.paths.root, "images", `${digestHex(id)}.json`);
  }

  /** The record of image ID; a damaged one throws a DamagedRecordError that names its file. */
  image(id: string): ImageRecord | undefined {
    return readRecord(this.imagePath(id), ImageRecordSchema, "an image record");
  }

  /** image(), for listings: a damaged record is named on stderr and left out instead of failing all */
  readableImage(id: string): ImageRecord | undefined {
    try {
      return this.image(id);
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
      warnDamaged(e);
      return undefined;
    }
  }

  async putImage(rec: ImageRecord): Promise<void> {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(this.paths.root, "images"), { recursive: true });
    writeFileAtomic(this.imagePath(rec.id), `${JSON.stringify(rec, null, 2)}\n`);
  }

  private indexPath(): string {
    return join(this.paths.root, "repositories.json");
  }

  /** The tag index; a damaged one throws a DamagedRecordError (read-only callers use readableTags). */
  tags(): TagIndex {
    return readRecord(this.indexPath(), TagIndexSchema, "a tag index") ?? { tags: {}, digests: {} };
  }

  /**
   * The tag index for reading: a damaged one is named on stderr and read as empty, so that `images`
   * and `run IMAGE-ID` still work. Writers use tags(), which refuses: writing would lose the tags.
   */
  readableTags(): TagIndex {
    try {
      return this.tags();
    } catch (e) {
      if (!(e instanceof DamagedRecordError)) throw e;
      warnDamaged(e);
      return { tags: {}, digests: {} };
    }
  }

  /**
   * Work that adds content (pulls, loads) holds this lock shared; garbage collection holds it
   * exclusive, so it never removes a blob a pull has stored but not yet recorded.
   */
  async contentLock<T>(fn: () => Promise<T>, exclusive = false): Promise<T> {
    return withLock(
      join(this.paths.root, "locks", "content.lock"),
      async () => {
        // what killed hulls left half-written in tmp/ goes first (their names say whose it was)
        const { sweepTmp } = await import("../store/tmp");
        const { removeTree } = await import("./layers");
        await sweepTmp(this.paths, (p) => removeTree(...p));
        return fn();
      },
      !exclusive,
    );
  }

  images(): ImageRecord[] {
    let names: string[] = [];
    try {
      names = readDir(join(this.paths.root, "images")) ?? [];
    } catch {}
    const out: ImageRecord[] = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
      // one damaged record must not take every image with it: named, and left out
      const rec = this.readableImage(`sha256:${n.slice(0, 64)}`);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** Change the tag index under the store's lock: read, apply EDIT, write atomically. */
  async editTags(edit: (index: TagIndex) => void): Promise<void> {
    await withLock(join(this.paths.root, "locks", "tags.lock"), () => {
      const index = this.tags();
      edit(index);
      writeFileAtomic(this.indexPath(), `${JSON.stringify(index, null, 2)}\n`);
    });
  }
}
