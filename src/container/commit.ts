// `hull commit`: the container's writable layer as a new image layer on top of its image. The
// overlay's forms go back to the OCI ones: a 0:0 character device becomes a .wh.<name> entry, an
// opaque directory gets .wh..wh..opq. The tar is written as root in the user namespace, where the
// files' owners read as the container's ids.
import { join } from "../sys/path";
import { createTarPacker, type TarHeader } from "modern-tar";
import type { Instruction } from "../build/dockerfile";
import type { RunConfig } from "../build/metadata";
import { parseImageConfig } from "../image/config";
import { sha256 } from "../image/digest";
import { ensureUnpacked } from "../image/layers";
import { parseReference } from "../image/reference";
import type { ImageRecord, ImageStore } from "../image/store";
import { runInUserNamespace } from "../runtime/userns-exec";
import { readFileText } from "../sys/libc";
import { isOpaque, OPAQUE_MARKERS, whiteoutOf } from "./overlay-forms";
import { whilePaused } from "./lifecycle";
import { containerDir, findContainer, withContainerLock } from "./records";
import { tmpEntry } from "../store/tmp";

const PLACEHOLDERS = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf"]);
const LAYER = "application/vnd.oci.image.layer.v1.tar";

export interface LayerOptions {
  /** the layers beneath UPPER, topmost first: a directory copied up without a change is left out */
  lowers?: string[];
  /**
   * mount points the runtime made (relative paths): left out when they are an empty file or
   * directory that no lower layer has, as Docker keeps them out of sight in an init layer
   */
  stubs?: string[];
  /** SOURCE_DATE_EPOCH: no entry's mtime is later than this (seconds) */
  epoch?: number;
}

export interface Entry {
  header: TarHeader;
  path?: string;
}

/**
 * Inside the namespace: UPPER as an OCI layer tar at OUT, entries sorted by name. Prints
 * {"diffId","size"}, or {"empty":true} (and writes nothing) when the layer would have no entries.
 */
export async function commitLayerInside(upper: string, out: string, opts: LayerOptions = {}): Promise<void> {
  const entries = await layerEntries(upper, opts);
  if (entries.length === 0) {
    console.log(JSON.stringify({ empty: true }));
    return;
  }
  console.log(JSON.stringify(await writeLayerTar(entries, out)));
}

/** The entries of UPPER's layer, in tar order. */
export async function layerEntries(upper: string, opts: LayerOptions): Promise<Entry[]> {
  const { lstatSync, readdirSync, readlinkSync } = await import("node:fs");
  const lowers = opts.lowers ?? [];
  const stubs = new Set(opts.stubs ?? PLACEHOLDERS);
  const lowerStat = (rel: string) => {
    for (const l of lowers) {
      try {
        return lstatSync(join(l, rel));
      } catch {}
    }
    return undefined;
  };
  const time = (mtime: Date) =>
    opts.epoch !== undefined && mtime.getTime() > opts.epoch * 1000 ? new Date(opts.epoch * 1000) : mtime;
  const links = new Map<string, string>();
  /** the entries beneath REL, and whether everything there was a stub left out */
  const walk = (rel: string): { entries: Entry[]; onlyStubs: boolean } => {
    const entries: Entry[] = [];
    const names = readdirSync(join(upper, rel)).sort();
    let stubsOnly = names.length > 0;
    for (const name of names) {
      const sub = rel ? `${rel}/${name}` : name;
      const path = join(upper, sub);
      const st = lstatSync(path);
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: time(st.mtime) };
      const emptyStub =
        stubs.has(sub) &&
        ((st.isDirectory() && readdirSync(path).length === 0) || (st.isFile() && st.size === 0)) &&
        !lowerStat(sub);
      if (emptyStub) continue;
      // fuse-overlayfs marks an opaque directory with a file and a device of these names: the
      // directory's own entry below says it once
      if (OPAQUE_MARKERS.includes(name)) continue;
      const deleted = whiteoutOf(name, st);
      if (deleted !== undefined) {
        stubsOnly = false;
        entries.push({
          header: { name: rel ? `${rel}/.wh.${deleted}` : `.wh.${deleted}`, size: 0, ...base, mode: 0o644 },
        });
      } else if (st.isDirectory()) {
        const inner = walk(sub);
        const opaque = isOpaque(path);
        if (inner.entries.length === 0 && !opaque) {
          // copied up only because something beneath changed that is left out, or for a mount point
          const low = lowerStat(sub);
          const unchanged = low?.isDirectory() && low.mode === st.mode && low.uid === st.uid && low.gid === st.gid;
          if (unchanged || (!low && inner.onlyStubs)) continue;
        }
        stubsOnly = false;
        entries.push({ header: { name: `${sub}/`, type: "directory", size: 0, ...base } });
        if (opaque) entries.push({ header: { name: `${sub}/.wh..wh..opq`, size: 0, ...base, mode: 0o644 } });
        entries.push(...inner.entries);
      } else if (st.isSymbolicLink()) {
        stubsOnly = false;
        entries.push({ header: { name: sub, type: "symlink", size: 0, linkname: readlinkSync(path), ...base } });
      } else if (st.isFile()) {
        stubsOnly = false;
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first) entries.push({ header: { name: sub, type: "link", size: 0, linkname: first, ...base } });
        else {
          if (st.nlink > 1) links.set(key, sub);
          entries.push({ header: { name: sub, size: st.size, ...base }, path });
        }
      }
    }
    return { entries, onlyStubs: stubsOnly };
  };
  return walk("").entries;
}

export async function writeLayerTar(entries: Entry[], out: string): Promise<{ diffId: string; size: number }> {
  const { readable, controller } = createTarPacker();
  const sink = Bun.file(out).writer();
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const piping = (async () => {
    for await (const chunk of readable) {
      hasher.update(chunk);
      size += chunk.length;
      sink.write(chunk);
    }
    await sink.end();
  })();
  for (const { header, path } of entries) {
    const w = controller.add(header);
    if (path && header.size > 0) await Bun.file(path).stream().pipeTo(w);
    else await w.close();
  }
  controller.finalize();
  await piping;
  return { diffId: `sha256:${hasher.digest("hex")}`, size };
}

/**
 * `hull commit -c`: Dockerfile instructions applied to the committed image's config, as `docker
 * commit --change` does. Only those that change the config are taken.
 */
const CHANGES = new Set([
  "CMD",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "LABEL",
  "ONBUILD",
  "USER",
  "VOLUME",
  "WORKDIR",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

async function applyChanges(config: RunConfig, changes: string[]): Promise<RunConfig> {
  const { parseDockerfile } = await import("../build/dockerfile");
  const { applyMetadata, envMap } = await import("../build/metadata");
  let c = config;
  let cmdSet = false;
  for (const change of changes) {
    let ins: Instruction | undefined;
    try {
      ins = parseDockerfile(`FROM scratch\n${change}\n`).stages[0]?.instructions[0];
    } catch (e) {
      throw new Error(`--change ${change}: ${(e as Error).message.replace(/^Dockerfile:\d+:\d+: /, "")}`);
    }
    if (!ins || !CHANGES.has(ins.cmd)) {
      throw new Error(`--change ${change}: commit takes ${[...CHANGES].join(", ")}`);
    }
    try {
      if (ins.cmd === "WORKDIR") {
        const { posix } = await import("../sys/path");
        c = { ...c, WorkingDir: posix.resolve(c.WorkingDir || "/", ins.args.trim()) };
      } else c = applyMetadata(ins, c, { vars: envMap(c), escape: "\\", cmdSet });
    } catch (e) {
      throw new Error(`--change ${change}: ${(e as Error).message.replace(/^Dockerfile:\d+:\d+: /, "")}`);
    }
    if (ins.cmd === "CMD") cmdSet = true;
  }
  return c;
}

export async function commitContainer(
  store: ImageStore,
  key: string,
  target?: string,
  message = "",
  opts: { changes?: string[]; author?: string; pause?: boolean } = {},
): Promise<string> {
  const rec = findContainer(store.paths, key);
  if (!rec.imageId) throw new Error(`container ${key} runs a --rootfs directory: there is no image to commit on`);
  const parent = store.image(rec.imageId);
  const parentConfig = readFileText(store.blobPath(rec.imageId));
  if (!parent || !parentConfig) throw new Error(`the image of container ${key} is gone from the store`);
  // checked before any work: a bad --change leaves nothing behind
  const runConfig = await applyChanges((JSON.parse(parentConfig).config ?? {}) as RunConfig, opts.changes ?? []);
  const { mkdirSync, rmSync } = await import("node:fs");
  mkdirSync(store.paths.tmp, { recursive: true });
  const tar = tmpEntry(store.paths, "commit", ".tar");
  try {
    let stdout = "";
    // a running container is paused while its writable layer is read, as docker commit does: else it
    // could swap a path for a symlink to a host file between hull's look and its read, and the host
    // file would land in the image (and be pushed with it)
    // under the container's lock: a `hull cp` into it (or a start, or an rm) is not half done in
    // what the image gets
    const read = () =>
      withContainerLock(
        store.paths,
        rec.id,
        () =>
          runInUserNamespace(["__commit-layer", join(containerDir(store.paths, rec.id), "upper"), tar], {}, (s) => {
            stdout = s;
          }),
        key,
      );
    const r = opts.pause === false ? await read() : await whilePaused(store.paths, key, read);
    if (r.code !== 0) throw new Error(`commit failed: ${r.stderr.trim()}`);
    const made = JSON.parse(stdout) as { diffId: string; size: number } | { empty: true };
    return await store.contentLock(async () => {
      const layer = "diffId" in made ? made : undefined;
      if (layer) {
        if (!store.hasBlob(layer.diffId)) await store.putBlob(layer.diffId, Bun.file(tar).stream(), layer.size);
        await ensureUnpacked(store, layer.diffId, LAYER, layer.diffId);
      }
      const config = parseImageConfig(parentConfig, rec.imageId as string);
      // spread from the raw JSON: the schema keeps only what hull reads, the image keeps everything
      const raw = JSON.parse(parentConfig) as Record<string, unknown>;
      const now = new Date().toISOString();
      const next = {
        ...raw,
        ...(opts.author ? { author: opts.author } : {}),
        config: runConfig,
        created: now,
        rootfs: { type: "layers" as const, diff_ids: [...config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])] },
        history: [
          ...(config.history ?? []),
          {
            created: now,
            created_by: `hull commit ${rec.name ?? rec.id.slice(0, 12)}`,
            comment: message,
            ...(layer ? {} : { empty_layer: true }),
          },
        ],
      };
      const text = JSON.stringify(next);
      const id = sha256(text);
      if (!store.hasBlob(id)) await store.putBlob(id, new Blob([text]).stream());
      const record: ImageRecord = {
        id,
        layers: [
          ...parent.layers,
          ...(layer ? [{ digest: layer.diffId, diffId: layer.diffId, size: layer.size, mediaType: LAYER }] : []),
        ],
        created: now,
      };
      await store.putImage(record);
      if (target) {
        const ref = parseReference(target);
        await store.editTags((index) => {
          index.tags[`${ref.domain}/${ref.path}:${ref.tag ?? "latest"}`] = id;
        });
      }
      return id;
    });
  } finally {
    rmSync(tar, { force: true });
  }
}
