// `hull commit`: the container's writable layer as a new image layer on top of its image. The
// overlay's forms go back to the OCI ones: a 0:0 character device becomes a .wh.<name> entry, an
// opaque directory gets .wh..wh..opq. The tar is written as root in the user namespace, where the
// files' owners read as the container's ids.
import { join } from "node:path";
import { createTarPacker, type TarHeader } from "modern-tar";
import { parseImageConfig } from "../image/config";
import { sha256 } from "../image/digest";
import { ensureUnpacked } from "../image/layers";
import { parseReference } from "../image/reference";
import type { ImageRecord, ImageStore } from "../image/store";
import { runInUserNamespace } from "../runtime/userns-exec";
import { lgetxattr, readFileText } from "../sys/libc";
import { containerDir, findContainer } from "./records";

const PLACEHOLDERS = new Set(["etc/hostname", "etc/hosts", "etc/resolv.conf"]);
const LAYER = "application/vnd.oci.image.layer.v1.tar";

/** Inside the namespace: UPPER as an OCI layer tar at OUT; prints {"diffId","size"}. */
export async function commitLayerInside(upper: string, out: string): Promise<void> {
  const { lstatSync, readdirSync, readlinkSync } = await import("node:fs");
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
  const add = async (header: TarHeader, path?: string) => {
    const w = controller.add(header);
    if (path && header.size > 0) await Bun.file(path).stream().pipeTo(w);
    else await w.close();
  };
  const links = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const sub = rel ? `${rel}/${name}` : name;
      if (PLACEHOLDERS.has(sub)) continue;
      const path = join(upper, sub);
      const st = lstatSync(path);
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await add({ name: rel ? `${rel}/.wh.${name}` : `.wh.${name}`, size: 0, ...base, mode: 0o644 });
      } else if (st.isDirectory()) {
        await add({ name: `${sub}/`, type: "directory", size: 0, ...base });
        const opaque = lgetxattr(path, "user.overlay.opaque");
        if (opaque && new TextDecoder().decode(opaque) === "y")
          await add({ name: `${sub}/.wh..wh..opq`, size: 0, ...base, mode: 0o644 });
        await walk(sub);
      } else if (st.isSymbolicLink()) {
        await add({ name: sub, type: "symlink", size: 0, linkname: readlinkSync(path), ...base });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first) await add({ name: sub, type: "link", size: 0, linkname: first, ...base });
        else {
          if (st.nlink > 1) links.set(key, sub);
          await add({ name: sub, size: st.size, ...base }, path);
        }
      }
    }
  };
  await walk("");
  controller.finalize();
  await piping;
  console.log(JSON.stringify({ diffId: `sha256:${hasher.digest("hex")}`, size }));
}

export async function commitContainer(store: ImageStore, key: string, target?: string, message = ""): Promise<string> {
  const rec = findContainer(store.paths, key);
  if (!rec.imageId) throw new Error(`container ${key} runs a --rootfs directory: there is no image to commit on`);
  const parent = store.image(rec.imageId);
  const parentConfig = readFileText(store.blobPath(rec.imageId));
  if (!parent || !parentConfig) throw new Error(`the image of container ${key} is gone from the store`);
  const { mkdirSync, rmSync } = await import("node:fs");
  mkdirSync(store.paths.tmp, { recursive: true });
  const tar = join(store.paths.tmp, `commit-${crypto.randomUUID()}.tar`);
  try {
    let stdout = "";
    const r = await runInUserNamespace(
      ["__commit-layer", join(containerDir(store.paths, rec.id), "upper"), tar],
      {},
      (s) => {
        stdout = s;
      },
    );
    if (r.code !== 0) throw new Error(`commit failed: ${r.stderr.trim()}`);
    const { diffId, size } = JSON.parse(stdout) as { diffId: string; size: number };
    return await store.contentLock(async () => {
      if (!store.hasBlob(diffId)) await store.putBlob(diffId, Bun.file(tar).stream(), size);
      await ensureUnpacked(store, diffId, LAYER, diffId);
      const config = parseImageConfig(parentConfig, rec.imageId as string);
      const now = new Date().toISOString();
      const next = {
        ...config,
        created: now,
        rootfs: { type: "layers" as const, diff_ids: [...config.rootfs.diff_ids, diffId] },
        history: [
          ...(config.history ?? []),
          { created: now, created_by: `hull commit ${rec.name ?? rec.id.slice(0, 12)}`, comment: message },
        ],
      };
      const text = JSON.stringify(next);
      const id = sha256(text);
      if (!store.hasBlob(id)) await store.putBlob(id, new Blob([text]).stream());
      const record: ImageRecord = {
        id,
        layers: [...parent.layers, { digest: diffId, diffId, size, mediaType: LAYER }],
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
