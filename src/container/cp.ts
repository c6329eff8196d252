// `hull cp`: files into and out of a container, running or stopped. The copy runs as root in a user
// namespace with the container's id range (so every file is readable, and what is copied out belongs
// to the caller, what is copied in to the container's root). Paths inside the container resolve with
// its symlinks followed beneath its root, never out of it; a running container is paused while the
// copy runs, so it cannot swap a path for a symlink halfway (Docker's CVE-2018-15664).
import { basename, join, posix } from "node:path";
import * as v from "valibot";
import { findProgram } from "../runtime/programs";
import { runInUserNamespace } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { whilePaused } from "./lifecycle";
import { withoutIdSwap } from "../runtime/userns-mode";
import { copyIn, isDirIn, resolveInRoot, rooted } from "./rooted-fs";
import { containerDir, containerState, findContainer, withContainerLock, initPid } from "./records";

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
    if (statSync(hostPath).isDirectory()) dest = join(hostPath, basename(inside));
  } catch {}
  cpSync(inside, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true });
}

const Spec = v.looseObject({ overlay: v.string(), rootfs: v.string() });

export type LayerMount = { rootfs: string; overlay: string; fuseProg: string };

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
        const pid = initPid(paths, rec.id);
        if (!pid) throw new Error(`container ${key} has not started its command yet`);
        await whilePaused(paths, key, () => fn(`/proc/${pid}/root`, undefined, pid));
        return;
      }
      const spec = v.parse(Spec, JSON.parse(readFileText(join(containerDir(paths, rec.id), "spec.json")) ?? "{}"));
      if (!spec.overlay) return running ? whilePaused(paths, key, () => fn(spec.rootfs)) : fn(spec.rootfs);
      const overlay = withoutIdSwap(spec.overlay);
      const mount = { rootfs: spec.rootfs, overlay, fuseProg: findProgram("fuse-overlayfs") };
      if (!layersOnly) return fn(spec.rootfs, mount);
      const lower = /(?:^|,)lowerdir=([^,]*)/.exec(overlay)?.[1];
      const upper = /(?:^|,)upperdir=([^,]*)/.exec(overlay)?.[1];
      if (!lower || !upper) throw new Error(`container ${key} has a damaged spec.json (no layers)`);
      const readOnly = { ...mount, overlay: `lowerdir=${upper}:${lower}` };
      await (running ? whilePaused(paths, key, () => fn(spec.rootfs, readOnly)) : fn(spec.rootfs, readOnly));
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
  const { resolve } = await import("node:path");
  await withContainerRoot(paths, side.container, async (root, mount, targetPid) => {
    const r = await runInUserNamespace(
      ["__cp", direction, root, side.path, resolve(hostPath)],
      {},
      undefined,
      mount,
      targetPid,
    );
    if (r.code !== 0) throw helperError(r.stderr, "copy failed");
  });
}
