// The file work of a build step, done by hull as root in the user namespace (`hull __build-layer`),
// where files of every id of the container range can be made: COPY and ADD into the step's
// overlay, WORKDIR's directory, COPY --from's export out of another stage's image; then the step's
// writable layer becomes a layer tar and an unpacked layer directory.
import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
} from "node:fs";
import { basename, join, posix } from "../sys/path";
import * as v from "valibot";
import { layerEntries, writeLayerTar } from "../container/commit";
import { compressionByMagic, isTarHeader } from "../image/magic";
import { type CopyRules, copyIn, isDirIn, realIn, resolveInRoot, rooted } from "../container/rooted-fs";

const Owner = v.optional(v.object({ uid: v.number(), gid: v.number() }));

const CopyOp = v.object({
  op: v.literal("copy"),
  /** the destination, a container path */
  dest: v.string(),
  /** the destination is a directory even if it does not exist yet (it ends in /, or many sources) */
  destIsDir: v.boolean(),
  sources: v.array(
    v.object({
      /** a host path */
      path: v.string(),
      /** for a directory of the build context: the paths beneath it to copy (others are ignored) */
      include: v.optional(v.array(v.string())),
      /** an archive to unpack at the destination (ADD) */
      extract: v.optional(v.boolean()),
      /** the file's name at the destination, when not the source's own (ADD of a URL) */
      name: v.optional(v.string()),
    }),
  ),
  /** --chown; without it, COPY from the context gives 0:0 and COPY --from keeps the owners */
  owner: Owner,
  keepOwners: v.boolean(),
  /** --chmod, octal */
  mode: v.optional(v.number()),
});

const MkdirOp = v.object({ op: v.literal("mkdir"), path: v.string(), owner: Owner });

/** RUN --mount=type=cache: the cache directory (a host path) gets its uid, gid and mode */
const OwnOp = v.object({ op: v.literal("own"), path: v.string(), owner: v.object({ uid: v.number(), gid: v.number() }), mode: v.number() });

const ExportOp = v.object({
  op: v.literal("export"),
  /** container paths (wildcards allowed in the last component) */
  paths: v.array(v.string()),
  /** host directory: each match lands in OUT/<n>/<name> */
  out: v.string(),
});

export const BuildLayerRequest = v.object({
  /** where the step's overlay is mounted (the shim's exec mode), when there are ops */
  root: v.optional(v.string()),
  ops: v.array(v.variant("op", [CopyOp, MkdirOp, ExportOp, OwnOp])),
  /** commit: the step's writable layer, the layers beneath it (topmost first) */
  upper: v.optional(v.string()),
  lowers: v.array(v.string()),
  stubs: v.array(v.string()),
  epoch: v.optional(v.number()),
  /** where the layer tar goes, and the directory it is unpacked to */
  tar: v.optional(v.string()),
  layer: v.optional(v.string()),
});
export type BuildLayerRequest = v.InferOutput<typeof BuildLayerRequest>;
type CopyOp = v.InferOutput<typeof CopyOp>;

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** mkdir -p of the container path PATH beneath ROOT; directories made get OWNER. Its host path. */
function makeDirs(root: string, path: string, owner?: { uid: number; gid: number }): string {
  let sub = "/";
  for (const part of path.split("/").filter(Boolean)) {
    sub = posix.join(sub, part);
    const found = rooted(root, sub);
    if (found === undefined) {
      const host = resolveInRoot(root, sub);
      if (exists(host)) throw new Error(`${sub} is a symbolic link to nothing`);
      mkdirSync(host, { mode: 0o755 });
      chmodSync(host, 0o755);
      if (owner) lchownSync(host, owner.uid, owner.gid);
    } else if (!lstatSync(found).isDirectory()) throw new Error(`${sub} exists and is not a directory`);
  }
  return realIn(root, path);
}

/** STREAM's first N bytes, and a stream that still gives every byte. */
async function peek(stream: ReadableStream<Uint8Array>, n: number): Promise<[Uint8Array, ReadableStream<Uint8Array>]> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    have += value.length;
  }
  const head = new Uint8Array(have);
  let at = 0;
  for (const c of chunks) {
    head.set(c, at);
    at += c.length;
  }
  const rest = new ReadableStream<Uint8Array>({
    start(ctl) {
      if (head.length > 0) ctl.enqueue(head);
    },
    async pull(ctl) {
      const { value, done } = await reader.read();
      if (done) ctl.close();
      else ctl.enqueue(value);
    },
  });
  return [head.slice(0, n), rest];
}

/**
 * ADD of a local archive: a tar, plain or compressed (gzip, zstd, bzip2, xz), is unpacked into
 * DEST_DIR. False when ARCHIVE holds no tar after all: Docker then copies the file as it is.
 */
async function extractInto(archive: string, destDir: () => string): Promise<boolean> {
  const file = Bun.file(archive);
  const c = compressionByMagic(new Uint8Array(await file.slice(0, 6).arrayBuffer()));
  let stream: ReadableStream<Uint8Array>;
  let child: ReturnType<typeof Bun.spawn> | undefined;
  if (c === "none") stream = file.stream();
  else if (c === "gzip" || c === "zstd")
    // Bun decompresses these itself; bzip2 and xz need the host's programs
    stream = file.stream().pipeThrough(new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  else {
    const exe = Bun.which(c);
    if (!exe) throw new Error(`ADD ${basename(archive)}: ${c} is needed to unpack it (apt-get install ${c === "xz" ? "xz-utils" : "bzip2"})`);
    child = Bun.spawn([exe, "-dc", archive], { stdout: "pipe", stderr: "pipe" });
    stream = child.stdout as ReadableStream<Uint8Array>;
  }
  const [head, all] = await peek(stream, 512);
  if (!isTarHeader(head)) {
    await all.cancel().catch(() => {});
    child?.kill();
    return false;
  }
  const { unpackLayer } = await import("../image/unpack");
  await unpackLayer(all, destDir(), { owners: true });
  if (child && (await child.exited) !== 0) {
    throw new Error(`ADD ${basename(archive)}: ${await new Response(child.stderr as ReadableStream).text()}`);
  }
  return true;
}

async function copy(root: string, op: CopyOp): Promise<void> {
  // --chown, else 0:0 from the context and the owners of another image for COPY --from
  const rules: CopyRules = {
    root,
    owner: (st) => op.owner ?? (op.keepOwners ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 }),
    mode: op.mode,
    times: true,
  };
  const destIsDir = op.destIsDir || isDirIn(root, op.dest);
  if (destIsDir) makeDirs(root, op.dest, op.owner);
  else makeDirs(root, posix.dirname(op.dest));
  for (const s of op.sources) {
    if (s.extract && (await extractInto(s.path, () => makeDirs(root, op.dest, op.owner)))) continue;
    if (lstatSync(s.path).isDirectory()) {
      // a directory's contents go to the destination, not the directory itself
      makeDirs(root, op.dest, op.owner);
      const include = s.include ? new Set(s.include) : undefined;
      for (const name of readdirSync(s.path).sort()) {
        if (include && !include.has(name)) continue;
        copyIn(rules, join(s.path, name), posix.join(op.dest, name), include, name);
      }
      continue;
    }
    copyIn(rules, s.path, destIsDir ? posix.join(op.dest, s.name ?? basename(s.path)) : op.dest);
  }
}

/** COPY --from: the paths out of ROOT (another image, mounted), owners kept, into OUT/<n>/. */
function exportPaths(root: string, paths: string[], out: string): void {
  let n = 0;
  for (const p of paths) {
    const parent = posix.dirname(posix.join("/", p));
    const last = posix.basename(posix.join("/", p));
    let names = [last];
    if (/[*?[]/.test(last)) {
      const re = new RegExp(`^${last.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
      names = readdirSync(resolveInRoot(root, parent)).filter((f) => re.test(f)).sort();
    }
    if (names.length === 0 || (names.length === 1 && names[0] === last && !exists(resolveInRoot(root, p)))) {
      throw new Error(`${p}: no such file or directory in the source image`);
    }
    for (const name of names) {
      const dir = join(out, String(n++));
      mkdirSync(dir, { recursive: true });
      // the path itself resolved like the container would (a symlink at the end is followed)
      const src = realIn(root, posix.join(parent, name));
      // into a directory of our own: copyIn with owners kept, as root in the namespace can
      copyIn({ root: dir, owner: (st) => ({ uid: st.uid, gid: st.gid }), times: true }, src, name === "/" || name === "" ? "/root" : `/${name}`);
    }
  }
}

export async function buildLayerInside(req: BuildLayerRequest): Promise<void> {
  for (const op of req.ops) {
    if (!req.root) throw new Error("a build step with file operations needs its overlay mounted");
    if (op.op === "copy") await copy(req.root, op);
    else if (op.op === "mkdir") makeDirs(req.root, op.path, op.owner);
    else if (op.op === "own") {
      lchownSync(op.path, op.owner.uid, op.owner.gid);
      chmodSync(op.path, op.mode);
    }
    else exportPaths(req.root, op.paths, op.out);
  }
  const entries = req.upper ? await layerEntries(req.upper, req) : [];
  if (entries.length === 0 || !req.tar) {
    console.log(JSON.stringify({ empty: true }));
    return;
  }
  const made = await writeLayerTar(entries, req.tar);
  // unpacked here too, while hull is root in the namespace, so the step needs no second process
  if (req.layer) {
    const { unpackLayer } = await import("../image/unpack");
    await unpackLayer(Bun.file(req.tar).stream(), req.layer, { owners: true });
  }
  console.log(JSON.stringify(made));
}
