// `hull cp`: files into and out of a container, running or stopped. The copy runs as root in a user
// namespace with the container's id range (so every file is readable, and what is copied out belongs
// to the caller, what is copied in to the container's root). Paths inside the container resolve with
// its symlinks followed beneath its root, never out of it; a running container is paused while the
// copy runs, so it cannot swap a path for a symlink halfway (Docker's CVE-2018-15664).
import { basename, join, posix, relative } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { mkdirSync } from "node:fs";
import { removeTree } from "../image/layers";
import { ABI } from "../runtime/abi";
import { insideId } from "../runtime/idmap";
import { findProgram } from "../runtime/programs";
import { tmpEntry } from "../store/tmp";
import { runInUserNamespace } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { whilePaused } from "./lifecycle";
import { withoutIdSwap } from "../runtime/userns-mode";
import { copyIn, isDirIn, resolveInRoot, rooted } from "./rooted-fs";
import { containerDir, containerState, findContainer, withContainerLock, startedInit } from "./records";

/** "web:/etc/hosts" -> container and path; host paths (with a slash before any colon) -> undefined. */
export function splitContainerPath(arg: string): { container: string; path: string } | undefined {
  const colon = arg.indexOf(":");
  if (colon <= 0 || arg.slice(0, colon).includes("/")) return undefined;
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || "/" };
}

/** Inside the namespace: copy FROM to TO with docker cp's rule for an existing directory. */
export async function copyInside(
  direction: "in" | "out",
  root: string,
  containerPath: string,
  hostPath: string,
  /** out: the ids inside that are the caller on the host, when not root's (a keep-id container) */
  owner?: { uid: number; gid: number },
): Promise<void> {
  const { cpSync, existsSync, lstatSync, statSync } = await import("node:fs");
  if (direction === "in") {
    // into the container through its own links only, never a host path one of them names; what is
    // copied in belongs to the container's root, as with docker cp
    if (!existsSync(hostPath)) throw new Error(`no such file or directory: ${hostPath}`);
    const dest = isDirIn(root, containerPath) ? posix.join(containerPath, basename(hostPath)) : containerPath;
    const parent = rooted(root, posix.dirname(posix.join("/", dest)));
    if (!parent || !lstatSync(parent).isDirectory())
      throw new Error(`no such directory in the container: ${posix.dirname(dest)}`);
    copyIn({ root, owner: () => ({ uid: 0, gid: 0 }), times: true }, hostPath, dest);
    return;
  }
  const inside = resolveInRoot(root, containerPath);
  try {
    lstatSync(inside);
  } catch {
    throw new Error(`no such file or directory: ${containerPath}`);
  }
  let dest = hostPath;
  try {
    // the root itself: its entries go into the directory, as docker copies CONTAINER:/
    if (statSync(hostPath).isDirectory() && relative(root, inside) !== "") dest = join(hostPath, basename(inside));
  } catch {}
  // FIFOs, sockets and devices are not copied (they would stop the copy halfway, or hang it), nor
  // the kernel's files under a running container's /proc and /sys
  const whole = relative(root, inside) === "";
  const plain = (p: string) => {
    if (whole && /^(proc|sys)\/./.test(relative(root, p))) return false;
    const st = lstatSync(p);
    return st.isFile() || st.isDirectory() || st.isSymbolicLink();
  };
  // ROOT/. : a running container's root is /proc/PID/root, a link a copy would take as it is
  cpSync(whole ? `${inside}/.` : inside, dest, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    force: true,
    filter: plain,
  });
  if (owner && (owner.uid !== 0 || owner.gid !== 0)) {
    const { lchownSync, readdirSync } = await import("node:fs");
    const own = (p: string) => {
      lchownSync(p, owner.uid, owner.gid);
      if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) own(join(p, n));
    };
    own(dest);
  }
}

/** The ids inside the running container PID that stand for the caller on the host. */
function callerInside(pid: number): { uid: number; gid: number } {
  const inside = (file: string, host: number) => insideId(host, readFileText(`/proc/${pid}/${file}`) ?? "") ?? 0;
  return { uid: inside("uid_map", process.getuid?.() ?? 0), gid: inside("gid_map", process.getgid?.() ?? 0) };
}

const Spec = lazily(() =>
  v.looseObject({ overlay: v.string(), rootfs: v.string(), overlayMode: v.optional(v.number()) }),
);

/** a container's layers to mount for a helper; MODE HULL_OVERLAY_FUSE when fuse-overlayfs wrote them */
export type LayerMount = { rootfs: string; overlay: string; fuseProg: string; mode?: number };

/**
 * FN with a way into container KEY's root filesystem, under the container's lock (a `hull start`
 * cannot mount the same layers meanwhile). A running container is paused and reached as
 * /proc/PID/root from its own namespaces (only they may open it), unless LAYERS_ONLY; a stopped one,
 * or with LAYERS_ONLY any, has its layers mounted in a mount namespace of the call's own: writable
 * on its upper layer, or with LAYERS_ONLY read-only with the upper layer as the top lower one, which
 * a running container's own mount of it does not disturb and which shows none of its mounts.
 */
export async function withContainerRoot(
  paths: StorePaths,
  key: string,
  fn: (root: string, mount?: LayerMount, targetPid?: number) => Promise<void>,
  layersOnly = false,
): Promise<void> {
  const rec = findContainer(paths, key);
  await withContainerLock(
    paths,
    rec.id,
    async () => {
      const running = containerState(paths, rec).status === "running";
      if (running && !layersOnly) {
        const pid = await startedInit(paths, rec, key);
        await whilePaused(paths, key, () => fn(`/proc/${pid}/root`, undefined, pid));
        return;
      }
      const spec = v.parse(Spec, JSON.parse(readFileText(join(containerDir(paths, rec.id), "spec.json")) ?? "{}"));
      if (!spec.overlay) return running ? whilePaused(paths, key, () => fn(spec.rootfs)) : fn(spec.rootfs);
      const overlay = withoutIdSwap(spec.overlay);
      // a writable layer fuse-overlayfs wrote (keep-id, HULL_OVERLAY=fuse) marks deletions and opaque
      // directories its own way, which only fuse-overlayfs reads back
      const fuse = spec.overlayMode === ABI.HULL_OVERLAY_FUSE;
      const mount: LayerMount = {
        rootfs: spec.rootfs,
        overlay,
        fuseProg: findProgram("fuse-overlayfs"),
        ...(fuse ? { mode: ABI.HULL_OVERLAY_FUSE } : {}),
      };
      if (!layersOnly) return fn(spec.rootfs, mount);
      const lower = /(?:^|,)lowerdir=([^,]*)/.exec(overlay)?.[1];
      const upper = /(?:^|,)upperdir=([^,]*)/.exec(overlay)?.[1];
      if (!lower || !upper) throw new Error(`container ${key} has a damaged spec.json (no layers)`);
      const read = async (m: LayerMount) =>
        running ? whilePaused(paths, key, () => fn(spec.rootfs, m)) : fn(spec.rootfs, m);
      // the kernel's overlay reads with no upper layer; fuse-overlayfs wants one: an empty one of
      // the store's tmp/, thrown away after
      if (!fuse) return read({ ...mount, overlay: `lowerdir=${upper}:${lower}` });
      const scratch = tmpEntry(paths, "read");
      mkdirSync(join(scratch, "upper"), { recursive: true });
      mkdirSync(join(scratch, "work"));
      try {
        await read({
          ...mount,
          overlay: `lowerdir=${upper}:${lower},upperdir=${scratch}/upper,workdir=${scratch}/work`,
        });
      } finally {
        await removeTree(scratch).catch(() => {});
      }
    },
    key,
  );
}

/** The last line of a hidden helper's stderr, as the error it reports. */
export function helperError(stderr: string, fallback: string): Error {
  return new Error(
    stderr
      .trim()
      .split("\n")
      .at(-1)
      ?.replace(/^hull: /, "") || fallback,
  );
}

export async function copy(paths: StorePaths, from: string, to: string): Promise<void> {
  const src = splitContainerPath(from);
  const dst = splitContainerPath(to);
  if ((src && dst) || (!src && !dst)) {
    throw new Error(
      "hull cp copies between a container and the host: hull cp CONTAINER:SRC DEST or hull cp SRC CONTAINER:DEST",
    );
  }
  const side = (src ?? dst) as { container: string; path: string };
  const hostPath = src ? to : from;
  const direction = src ? "out" : "in";
  const { resolve } = await import("../sys/path");
  await withContainerRoot(paths, side.container, async (root, mount, targetPid) => {
    // out of a running container, copied as its root: for keep-id that root is not the caller
    const owner = direction === "out" && targetPid ? callerInside(targetPid) : { uid: 0, gid: 0 };
    const r = await runInUserNamespace(
      ["__cp", direction, root, side.path, resolve(hostPath), `${owner.uid}:${owner.gid}`],
      {},
      undefined,
      mount,
      targetPid,
    );
    if (r.code !== 0) throw helperError(r.stderr, "copy failed");
  });
}
