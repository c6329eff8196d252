// Image archives: `hull save` writes what Docker 25+ writes, an OCI image layout that also carries
// Docker's manifest.json, so `docker load`, `podman load` and `skopeo` (docker-archive: or
// oci-archive:) all read it. `hull load` reads either form; `hull import` makes a one-layer image
// from a root filesystem tarball.
import { lstatSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "../sys/path";
import { createTarPacker } from "modern-tar";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { schemaProblem } from "./schema-problem";
import { type ImageConfig, parseImageConfig } from "./config";
import { sha256 } from "./digest";
import { compressionOf, diffSizesOf, ensureUnpacked } from "./layers";
import { isTarHeader } from "./magic";
import { findImage } from "./lookup";
import { hostPlatform, MEDIA, parseManifest, selectPlatform } from "./manifest";
import { familiarName, parseReference } from "./reference";
import type { ImageRecord, ImageStore } from "./store";
import { unpackLayer } from "./unpack";
import { counting } from "./counting";
import { tmpEntry } from "../store/tmp";

const enc = new TextEncoder();

export async function saveImages(store: ImageStore, names: string[], out: string): Promise<void> {
  const { readable, controller } = createTarPacker();
  // "-": standard output (`hull save IMAGE | gzip > f.tgz`)
  const sink = out === "-" ? Bun.stdout.writer() : Bun.file(out).writer();
  const piping = (async () => {
    for await (const chunk of readable) sink.write(chunk);
    await sink.end();
  })();
  const addBytes = async (name: string, data: Uint8Array) => {
    const w = controller.add({ name, size: data.length, mode: 0o644, mtime: new Date(0) }).getWriter();
    await w.write(data);
    await w.close();
  };
  const addFile = async (name: string, path: string) => {
    const size = statSync(path).size;
    const w = controller.add({ name, size, mode: 0o644, mtime: new Date(0) });
    await Bun.file(path).stream().pipeTo(w);
  };
  const written = new Set<string>();
  const blob = async (digest: string, path?: string, data?: Uint8Array) => {
    if (written.has(digest)) return;
    written.add(digest);
    if (data) await addBytes(`blobs/sha256/${digest.slice(7)}`, data);
    else await addFile(`blobs/sha256/${digest.slice(7)}`, path as string);
  };
  try {
    await addBytes("oci-layout", enc.encode(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
    const index: Array<Record<string, unknown>> = [];
    const dockerManifest: Array<Record<string, unknown>> = [];
    for (const name of names) {
      const found = findImage(store, name);
      if (!found) throw new Error(`no such image: ${name}`);
      const { record } = found;
      const config = readFileSync(store.blobPath(record.id));
      await blob(record.id, store.blobPath(record.id));
      for (const l of record.layers) await blob(l.digest, store.blobPath(l.digest));
      const manifest = enc.encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: MEDIA.ociConfig, digest: record.id, size: config.length },
          layers: record.layers.map((l) => ({ mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.size })),
        }),
      );
      const manifestDigest = sha256(manifest);
      await blob(manifestDigest, undefined, manifest);
      const full = /^(sha256:)?[a-f0-9]{4,64}$/.test(name) ? undefined : parseReference(name);
      const repoTag = full ? `${familiarName(full)}:${full.tag ?? "latest"}` : undefined;
      index.push({
        mediaType: MEDIA.ociManifest,
        digest: manifestDigest,
        size: manifest.length,
        annotations: full
          ? {
              "io.containerd.image.name": `${full.domain}/${full.path}:${full.tag ?? "latest"}`,
              "org.opencontainers.image.ref.name": full.tag ?? "latest",
            }
          : {},
      });
      dockerManifest.push({
        Config: `blobs/sha256/${record.id.slice(7)}`,
        RepoTags: repoTag ? [repoTag] : [],
        Layers: record.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      });
    }
    await addBytes(
      "index.json",
      enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: index })),
    );
    await addBytes("manifest.json", enc.encode(JSON.stringify(dockerManifest)));
    controller.finalize();
  } catch (e) {
    controller.error(e);
    await piping.catch(() => {});
    rmSync(out, { force: true });
    throw e;
  }
  await piping;
}

/** The OCI media type of a layer, whatever form it was pulled in. */
export function ociLayerType(mediaType: string): string {
  if (mediaType.startsWith("application/vnd.oci.")) return mediaType;
  const c = compressionOf(mediaType);
  return `application/vnd.oci.image.layer.v1.tar${c === "none" ? "" : `+${c}`}`;
}

interface Extracted {
  dir: string;
  file(rel: string): string;
}

/** Unpack the archive's files (blobs, json) into a temp directory of the store. */
async function extract(store: ImageStore, archive: string, bytes?: LoadBytes): Promise<Extracted> {
  const dir = tmpEntry(store.paths, "load");
  mkdirSync(dir, { recursive: true });
  const total = Bun.file(archive).size;
  let stream: ReadableStream<Uint8Array> = bytes
    ? counting(Bun.file(archive).stream(), (n) => bytes("archive", n, total))
    : Bun.file(archive).stream();
  const head = new Uint8Array(await Bun.file(archive).slice(0, 4).arrayBuffer());
  const c = compressionOf("", head);
  if (c !== "none")
    stream = stream.pipeThrough(
      new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  await unpackLayer(stream, dir);
  // the store's own path may pass through links (a home on another disk); the archive's may not
  const realDir = realpathSync(dir);
  return {
    dir,
    // a name from the archive's own JSON: it must be a regular file of the archive, reached through
    // no symlink (an archive may hold `blobs -> /home/me` or name `../../.ssh/id_rsa`, and hull
    // would store the host's file as a blob, ready for save or push)
    file: (rel: string) => {
      const p = join(dir, rel);
      let real = "";
      try {
        real = realpathSync(p);
      } catch {}
      if (!p.startsWith(`${dir}/`) || real !== realDir + p.slice(dir.length) || !lstatSync(p).isFile())
        throw new Error(`${archive}: ${JSON.stringify(rel)} is not a file of the archive`);
      return p;
    },
  };
}

/** The archive's JSON files are read whole: capped, as a registry's manifests are. */
const MAX_ARCHIVE_JSON = 4 * 1024 * 1024;

function readJson(path: string, archive: string): unknown {
  if (statSync(path).size > MAX_ARCHIVE_JSON)
    throw new Error(`${archive}: ${basename(path)} is larger than ${MAX_ARCHIVE_JSON} bytes`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new Error(`${archive}: ${basename(path)} is not JSON`);
  }
}

const DockerArchiveManifest = lazily(() =>
  v.array(
    v.object({
      Config: v.string(),
      RepoTags: v.nullish(v.array(v.string())),
      Layers: v.array(v.string()),
    }),
  ),
);
const OciIndexFile = lazily(() =>
  v.object({
    manifests: v.optional(
      v.array(
        v.object({
          digest: v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, "a sha256 digest")),
          mediaType: v.optional(v.string()),
          annotations: v.optional(v.record(v.string(), v.string())),
        }),
      ),
    ),
  }),
);

function parseArchiveJson<T>(schema: v.GenericSchema<unknown, T>, value: unknown, what: string, archive: string): T {
  const r = v.safeParse(schema, value);
  if (!r.success) throw new Error(`${archive}: ${what} is not valid: ${schemaProblem(r.issues)}`);
  return r.output;
}

/** bytes of the archive read, or of a layer taken in, so far: a terminal's progress */
type LoadBytes = (id: string, done: number, total: number) => void;

async function importBlob(
  store: ImageStore,
  path: string,
  bytes?: LoadBytes,
): Promise<{ digest: string; size: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  const size = Bun.file(path).size;
  let n = 0;
  // a docker archive's HEX/layer.tar, an OCI layout's blobs/sha256/HEX
  const label = (basename(path).endsWith(".tar") ? basename(dirname(path)) : basename(path)).slice(0, 12);
  for await (const chunk of Bun.file(path).stream()) {
    hasher.update(chunk);
    n += chunk.length;
    bytes?.(label, n, size);
  }
  const digest = `sha256:${hasher.digest("hex")}`;
  if (!store.hasBlob(digest)) await store.putBlob(digest, Bun.file(path).stream(), size);
  return { digest, size };
}

async function register(
  store: ImageStore,
  configPath: string,
  layerPaths: string[],
  tags: string[],
  mediaTypes?: string[],
  bytes?: LoadBytes,
): Promise<ImageRecord> {
  // the tags parsed before anything is stored: a name that is none leaves no untagged image behind
  const refs = tags.map((t) => parseReference(t));
  const { digest: id } = await importBlob(store, configPath);
  if (statSync(configPath).size > MAX_ARCHIVE_JSON) throw new Error(`${configPath}: the image config is too large`);
  const config = parseImageConfig(readFileSync(configPath, "utf8"), configPath);
  if (config.rootfs.diff_ids.length !== layerPaths.length) {
    throw new Error(
      `archive: the image config names ${config.rootfs.diff_ids.length} layers, the archive has ${layerPaths.length}`,
    );
  }
  const layers: ImageRecord["layers"] = [];
  const measured: number[] = [];
  for (const [i, p] of layerPaths.entries()) {
    const { digest, size } = await importBlob(store, p, bytes);
    const head = new Uint8Array(await Bun.file(p).slice(0, 4).arrayBuffer());
    const c = compressionOf(mediaTypes?.[i] ?? "", head);
    const mediaType = `application/vnd.oci.image.layer.v1.tar${c === "none" ? "" : `+${c}`}`;
    const diffId = config.rootfs.diff_ids[i] as string;
    const unpacked = await ensureUnpacked(store, digest, mediaType, diffId);
    layers.push({ digest, diffId, size, mediaType });
    measured.push(unpacked.size);
  }
  const sizes = diffSizesOf(
    store,
    layers.map((l, i) => ({ diffId: l.diffId, mediaType: l.mediaType, unpacked: measured[i] })),
  );
  const record: ImageRecord = {
    id,
    layers: layers.map((l, i) => ({ ...l, ...sizes[i] })),
    created: new Date().toISOString(),
  };
  await store.putImage(record);
  await store.editTags((index) => {
    for (const r of refs) index.tags[`${r.domain}/${r.path}:${r.tag ?? "latest"}`] = id;
  });
  return record;
}

/** `hull load -i FILE`: a Docker archive (manifest.json) or an OCI layout (index.json). */
export async function loadArchive(store: ImageStore, archive: string, bytes?: LoadBytes): Promise<string[]> {
  return store.contentLock(async () => {
    const x = await extract(store, archive, bytes);
    try {
      const out: string[] = [];
      let dockerManifest: v.InferOutput<typeof DockerArchiveManifest> | undefined;
      if (existsIn(x.dir, "manifest.json"))
        dockerManifest = parseArchiveJson(
          DockerArchiveManifest,
          readJson(x.file("manifest.json"), archive),
          "manifest.json",
          archive,
        );
      if (dockerManifest) {
        for (const m of dockerManifest) {
          const rec = await register(store, x.file(m.Config), m.Layers.map(x.file), m.RepoTags ?? [], undefined, bytes);
          out.push(
            ...(m.RepoTags?.length ? m.RepoTags.map((t) => `Loaded image: ${t}`) : [`Loaded image ID: ${rec.id}`]),
          );
        }
        return out;
      }
      if (!existsIn(x.dir, "index.json"))
        throw new Error(`${archive} is neither a Docker archive (manifest.json) nor an OCI layout (index.json)`);
      const index = parseArchiveJson(OciIndexFile, readJson(x.file("index.json"), archive), "index.json", archive);
      for (const desc of index.manifests ?? []) {
        const blobFile = (d: string) => x.file(`blobs/sha256/${d.slice(7)}`);
        const manifestBytes = (d: string) => {
          const f = blobFile(d);
          if (statSync(f).size > MAX_ARCHIVE_JSON) throw new Error(`${archive}: manifest ${d} is too large`);
          return readFileSync(f);
        };
        let parsed = parseManifest(manifestBytes(desc.digest), desc.mediaType ?? "", archive);
        if (parsed.kind === "index") {
          const chosen = selectPlatform(parsed.index, hostPlatform(), archive);
          parsed = parseManifest(manifestBytes(chosen.digest), chosen.mediaType, archive);
        }
        if (parsed.kind !== "manifest") throw new Error(`${archive}: nested indexes are not supported`);
        const m = parsed.manifest;
        const name = desc.annotations?.["io.containerd.image.name"];
        const rec = await register(
          store,
          blobFile(m.config.digest),
          m.layers.map((l) => blobFile(l.digest)),
          name ? [name] : [],
          m.layers.map((l) => l.mediaType),
          bytes,
        );
        out.push(name ? `Loaded image: ${name}` : `Loaded image ID: ${rec.id}`);
      }
      return out;
    } finally {
      rmSync(x.dir, { recursive: true, force: true });
    }
  });
}

/** `hull import ROOTFS.tar NAME`: one layer, the tarball as it is, and a minimal config. */
export async function importRootfs(store: ImageStore, tarball: string, name?: string): Promise<string> {
  return store.contentLock(async () => {
    const head = new Uint8Array(await Bun.file(tarball).slice(0, 4).arrayBuffer());
    const c = compressionOf("", head);
    let stream: ReadableStream<Uint8Array> = Bun.file(tarball).stream();
    if (c !== "none")
      stream = stream.pipeThrough(
        new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
      );
    // a rootfs tarball, whole: a tar header first, and the two zero blocks a tar ends with last (a
    // text file, random bytes or a truncated tar made an image that could not run)
    const hasher = new Bun.CryptoHasher("sha256");
    let total = 0;
    let first = new Uint8Array(0);
    let tail = new Uint8Array(0);
    try {
      for await (const chunk of stream) {
        hasher.update(chunk);
        total += chunk.length;
        if (first.length < 512) first = Buffer.concat([first, chunk.subarray(0, 512 - first.length)]);
        tail = Buffer.concat([tail, chunk]).subarray(-1024);
      }
    } catch {
      throw new Error(`${tarball}: its ${c} compression is broken: not a tarball hull can import`);
    }
    if (first.length < 512 || !isTarHeader(first))
      throw new Error(
        `${tarball} is not a tar archive (plain, gzip, zstd...): hull import takes a root filesystem tarball`,
      );
    if (total % 512 !== 0 || tail.length < 1024 || tail.some((b) => b !== 0))
      throw new Error(`${tarball} is a truncated tar archive: it does not end as a tar does`);
    const diffId = `sha256:${hasher.digest("hex")}`;
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: hostPlatform().architecture,
      os: "linux",
      created: now,
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: now, created_by: `hull import ${tarball.split("/").at(-1)}` }],
    };
    const configPath = tmpEntry(store.paths, "import", ".json");
    mkdirSync(store.paths.tmp, { recursive: true });
    await Bun.write(configPath, JSON.stringify(config));
    try {
      const rec = await register(store, configPath, [tarball], name ? [name] : []);
      return rec.id;
    } finally {
      rmSync(configPath, { force: true });
    }
  });
}

/** NAME is an entry of DIR itself (not reached through a link). */
function existsIn(dir: string, name: string): boolean {
  try {
    return lstatSync(join(dir, name)).isFile();
  } catch {
    return false;
  }
}

/**
 * SOURCE as a file hull can read twice (its first bytes, then all of it): a path as it is; "-" (standard
 * input) or an http(s) URL copied into the store's tmp/ first. FN gets the path; the copy goes after.
 */
export async function withArchiveFile<T>(
  store: ImageStore,
  source: string,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  if (source !== "-" && !/^https?:\/\//.test(source)) return fn(source);
  mkdirSync(store.paths.tmp, { recursive: true });
  const tmp = tmpEntry(store.paths, "stdin");
  try {
    if (source === "-") {
      // process.stdin: Bun.stdin.stream() refuses a pipe ("non-regular files")
      const sink = Bun.file(tmp).writer();
      for await (const chunk of process.stdin) sink.write(chunk as Uint8Array);
      await sink.end();
    } else {
      const { downloadTo } = await import("./registry");
      try {
        await downloadTo(source, tmp);
      } catch (e) {
        throw new Error(`${source}: ${(e as Error).message}`);
      }
    }
    return await fn(tmp);
  } finally {
    rmSync(tmp, { force: true });
  }
}
