// hull build -o/--output: where the image built goes besides the store, as docker buildx's exporters.
// local and tar give the image's root filesystem (its layers merged, as `hull export` gives a
// container's); docker and oci give the image as `hull save` writes it (an OCI layout with docker's
// manifest.json, which both docker load and OCI tools read).
import { rmdirSync } from "node:fs";
import { resolve } from "../sys/path";
import { tmpEntry } from "../store/tmp";
import { saveImages } from "../image/archive";
import type { ImageStore } from "../image/store";
import { unpackLayer } from "../image/unpack";
import { findProgram } from "../runtime/programs";
import { writeFileFrom } from "../container/export";
import { packTree, stdoutSink, type TarSink } from "../container/cp-stream";
import { isatty } from "../sys/libc";

export type BuildOutput = { type: "local" | "tar" | "docker" | "oci"; dest: string } | { type: "image" };

/** One -o value: DIR, -, or type=local|tar|docker|oci|image[,dest=PATH]. */
export function parseOutput(spec: string): BuildOutput {
  if (!spec.includes("=")) return spec === "-" ? { type: "tar", dest: "-" } : { type: "local", dest: spec };
  const opts = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || !["type", "dest", "name", "push"].includes(key))
      throw new Error(`-o ${spec}: unknown option "${part}" (it takes type, dest, name)`);
    opts.set(key, part.slice(eq + 1));
  }
  const type = opts.get("type") ?? "local";
  if (opts.get("push") === "true") throw new Error(`-o ${spec}: push=true is not supported: give hull push after the build`);
  if (type === "image" || (type === "docker" && !opts.has("dest"))) return { type: "image" };
  if (type === "registry") throw new Error(`-o type=registry is not supported: give hull push after the build`);
  if (type !== "local" && type !== "tar" && type !== "docker" && type !== "oci")
    throw new Error(`-o type=${type} is not supported: give local, tar, docker, oci or image`);
  const dest = opts.get("dest");
  if (!dest) throw new Error(`-o type=${type} needs dest=PATH`);
  if (type === "local" && dest === "-") throw new Error("-o type=local needs a directory: give type=tar,dest=- for a tar on stdout");
  return { type, dest };
}

/** The image built (ID, whose layers are LAYERS, topmost last) written where OUTPUT says. */
export async function writeOutput(store: ImageStore, id: string, layers: string[], output: BuildOutput): Promise<void> {
  if (output.type === "image") return;
  if (output.dest === "-" && isatty(1))
    throw new Error("refusing to write a tar to a terminal: give dest=FILE, or redirect the output");
  if (output.type === "docker" || output.type === "oci")
    return saveImages(store, [id], output.dest === "-" ? "-" : resolve(output.dest));
  const pack = (sink: TarSink) => packLayers(store, layers, sink);
  if (output.type === "tar") {
    if (output.dest === "-") return pack(stdoutSink());
    return writeFileFrom(resolve(output.dest), pack);
  }
  // local: unpacked as the caller, so every file is theirs (as buildx's local exporter gives them)
  const { statSync } = await import("node:fs");
  try {
    if (!statSync(output.dest).isDirectory())
      throw new Error(`${output.dest} is a file: type=local writes a directory (give type=tar,dest=FILE for a tar)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const unpacking = unpackLayer(readable, resolve(output.dest));
  try {
    await pack({ write: (chunk) => writer.write(chunk), end: () => writer.close() });
  } catch (e) {
    await writer.abort(e).catch(() => {});
    await unpacking.catch(() => {});
    throw e;
  }
  await unpacking;
}

/** LAYERS (directories, topmost last) merged read-only, packed as a tar in the image's id range. */
async function packLayers(store: ImageStore, layers: string[], sink: TarSink): Promise<void> {
  const top = layers.at(-1);
  if (!top) {
    // FROM scratch with no layer: an empty tree
    await sink.end();
    return;
  }
  if (layers.length === 1) {
    await packTree({ form: "export", root: top, path: "/" }, sink, "writing the image's files");
    await sink.end();
    return;
  }
  // overlay wants a mount point: an empty directory of the store's tmp/, gone afterwards
  const { mkdirSync } = await import("node:fs");
  mkdirSync(store.paths.tmp, { recursive: true });
  const point = tmpEntry(store.paths, "output");
  mkdirSync(point);
  try {
    const mount = {
      rootfs: point,
      overlay: `lowerdir=${[...layers].reverse().join(":")}`,
      fuseProg: findProgram("fuse-overlayfs"),
    };
    await packTree({ form: "export", root: point, path: "/", mount }, sink, "writing the image's files");
    await sink.end();
  } finally {
    rmdirSync(point);
  }
}
