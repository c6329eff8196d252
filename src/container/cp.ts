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
  const rec = findContainer(paths, side.container);
  // under the container's lock: a `hull start` cannot mount the same layers while they are mounted here
  await withContainerLock(
    paths,
    rec.id,
    async () => {
      const state = containerState(paths, rec);
      const run = async (
        root: string,
        mount?: { rootfs: string; overlay: string; fuseProg: string },
        targetPid?: number,
      ) => {
        const r = await runInUserNamespace(
          ["__cp", direction, root, side.path, resolve(hostPath)],
          {},
          undefined,
          mount,
          targetPid,
        );
        if (r.code !== 0)
          throw new Error(
            r.stderr
              .trim()
              .split("\n")
              .at(-1)
              ?.replace(/^hull: /, "") ?? "copy failed",
          );
      };
      if (state.status === "running") {
        const pid = initPid(paths, rec.id);
        if (!pid) throw new Error(`container ${side.container} has not started its command yet`);
        // in the container's own user namespace: only there is its /proc/PID/root open to us
        await whilePaused(paths, side.container, () => run(`/proc/${pid}/root`, undefined, pid));
        return;
      }
      // stopped: its layers, mounted for the copy in a mount namespace of its own
      const spec = v.parse(Spec, JSON.parse(readFileText(join(containerDir(paths, rec.id), "spec.json")) ?? "{}"));
      if (!spec.overlay) return run(spec.rootfs);
      await run(spec.rootfs, {
        rootfs: spec.rootfs,
        overlay: withoutIdSwap(spec.overlay),
        fuseProg: findProgram("fuse-overlayfs"),
      });
    },
    side.container,
  );
}
