// Hidden commands hull runs as root inside a user namespace (src/runtime/userns-exec.ts).
import * as v from "valibot";
import { BuildLayerRequest, buildLayerInside } from "../../build/apply";
import { commitLayerInside } from "../../container/commit";
import { copyInside } from "../../container/cp";
import { diffInside } from "../../container/diff";
import { unpackInside } from "../../image/layers";
import type { HullCommand } from "../command";

/** One health probe of a container (the container's parent starts it on its timer). */
export const healthCommand: HullCommand = {
  meta: { name: "__health", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [id, flag, root] = rawArgs;
    if (!id || flag !== "--root" || !root) throw new Error("__health ID --root DIR");
    const { probeHealth } = await import("../../container/health-probe");
    const { storePaths } = await import("../../store/paths");
    await probeHealth(storePaths(root), id);
  },
};

export const peersCommand: HullCommand = {
  meta: { name: "__peers", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [flag, root] = rawArgs;
    if (flag !== "--root" || !root?.startsWith("/"))
      throw new Error("__peers --root DIR (the store, an absolute path)");
    const { storePaths } = await import("../../store/paths");
    const { refreshAllPeers } = await import("../../network/attach");
    await refreshAllPeers(storePaths(root));
  },
};

export const unpackLayerCommand: HullCommand = {
  meta: { name: "__unpack-layer", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [blob, mediaType, diffId, dest, size, done] = rawArgs;
    if (!blob || !mediaType || !diffId || !dest || (size !== undefined && (!/^\d+$/.test(size) || !done)))
      throw new Error("__unpack-layer BLOB MEDIATYPE DIFFID DEST [SIZE BLOB_ONCE_DOWNLOADED]");
    if (process.getuid?.() !== 0) throw new Error("__unpack-layer runs as root in hull's user namespace");
    await unpackInside(
      blob,
      mediaType,
      diffId,
      dest,
      size === undefined || done === undefined ? undefined : { done, size: Number(size) },
    );
  },
};

export const diffCommand: HullCommand = {
  meta: { name: "__diff", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [upper, ...lowers] = rawArgs;
    if (!upper) throw new Error("__diff UPPER LOWER...");
    if (process.getuid?.() !== 0) throw new Error("__diff runs as root in hull's user namespace");
    await diffInside(upper, lowers);
  },
};

export const commitLayerCommand: HullCommand = {
  meta: { name: "__commit-layer", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [upper, out] = rawArgs;
    if (!upper || !out) throw new Error("__commit-layer UPPER OUT");
    if (process.getuid?.() !== 0) throw new Error("__commit-layer runs as root in hull's user namespace");
    await commitLayerInside(upper, out);
  },
};

export const cpCommand: HullCommand = {
  meta: { name: "__cp", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [direction, root, containerPath, hostPath, owner = "0:0"] = rawArgs;
    if ((direction !== "in" && direction !== "out") || !root || !containerPath || !hostPath) {
      throw new Error("__cp in|out ROOT CONTAINER_PATH HOST_PATH");
    }
    if (process.getuid?.() !== 0) throw new Error("__cp runs as root in hull's user namespace");
    const [uid, gid] = owner.split(":").map(Number);
    await copyInside(direction, root, containerPath, hostPath, { uid: uid ?? 0, gid: gid ?? 0 });
  },
};

export const buildLayerCommand: HullCommand = {
  meta: { name: "__build-layer", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [file] = rawArgs;
    if (!file) throw new Error("__build-layer REQUEST_FILE");
    if (process.getuid?.() !== 0) throw new Error("__build-layer runs as root in hull's user namespace");
    await buildLayerInside(v.parse(BuildLayerRequest, await Bun.file(file).json()));
  },
};

export const packCommand: HullCommand = {
  meta: { name: "__pack", hidden: true },
  ownArgs: true,
  async run({ rawArgs }) {
    const [form, root, path] = rawArgs;
    if ((form !== "cp" && form !== "export") || !root || !path) throw new Error("__pack cp|export ROOT PATH");
    if (process.getuid?.() !== 0) throw new Error("__pack runs as root in hull's user namespace");
    const { packInside } = await import("../../container/cp-stream");
    await packInside(form, root, path);
  },
};
