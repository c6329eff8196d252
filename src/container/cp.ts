// `hull cp`: files into and out of a container, running or stopped. The copy runs as root in a user
// namespace with the container's id range (so every file is readable, and what is copied out belongs
// to the caller, what is copied in to the container's root). Paths inside the container resolve with
// its symlinks followed beneath its root, never out of it; a running container is paused while the
// copy runs, so it cannot swap a path for a symlink halfway (Docker's CVE-2018-15664).
import { basename, join } from "node:path";
import * as v from "valibot";
import { findProgram } from "../runtime/programs";
import { runInUserNamespace } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { pauseContainer } from "./lifecycle";
import { containerDir, containerState, findContainer, initPid } from "./records";

/** "web:/etc/hosts" -> container and path; host paths (with a slash before any colon) -> undefined. */
export function splitContainerPath(arg: string): { container: string; path: string } | undefined {
  const colon = arg.indexOf(":");
  if (colon <= 0 || arg.slice(0, colon).includes("/")) return undefined;
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || "/" };
}

/** PATH beneath ROOT as the container sees it: symlinks followed, but never above ROOT. */
export function resolveInRoot(root: string, path: string): string {
  const { lstatSync, readlinkSync } = require("node:fs") as typeof import("node:fs");
  const todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === ".") continue;
    if (part === "..") {
      done.pop();
      continue;
    }
    const here = join(root, ...done, part);
    let link: string | undefined;
    try {
      if (lstatSync(here).isSymbolicLink()) link = readlinkSync(here);
    } catch {}
    if (link === undefined || todo.length === 0) {
      // the last component is the entry itself: a symlink there is copied as a symlink
      done.push(part);
      continue;
    }
    if (++links > 40) throw new Error(`too many symbolic links resolving ${path}`);
    if (link.startsWith("/")) done.length = 0;
    todo.unshift(...link.split("/").filter(Boolean));
  }
  return join(root, ...done);
}

/** Inside the namespace: copy FROM to TO with docker cp's rule for an existing directory. */
export async function copyInside(
  direction: "in" | "out",
  root: string,
  containerPath: string,
  hostPath: string,
): Promise<void> {
  const { cpSync, existsSync, statSync } = await import("node:fs");
  const inside = resolveInRoot(root, containerPath);
  const [from, to] = direction === "out" ? [inside, hostPath] : [hostPath, inside];
  if (!existsSync(from))
    throw new Error(`no such file or directory: ${direction === "out" ? containerPath : hostPath}`);
  let dest = to;
  try {
    if (statSync(to).isDirectory()) dest = join(to, basename(from));
  } catch {}
  cpSync(from, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true });
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
    const wasPaused = state.paused === true;
    if (!wasPaused) await pauseContainer(paths, side.container, true);
    try {
      // in the container's own user namespace: only there is its /proc/PID/root open to us
      await run(`/proc/${pid}/root`, undefined, pid);
    } finally {
      if (!wasPaused) await pauseContainer(paths, side.container, false);
    }
    return;
  }
  // stopped: its layers, mounted for the copy in a mount namespace of its own
  const spec = v.parse(Spec, JSON.parse(readFileText(join(containerDir(paths, rec.id), "spec.json")) ?? "{}"));
  if (!spec.overlay) return run(spec.rootfs);
  await run(spec.rootfs, { rootfs: spec.rootfs, overlay: spec.overlay, fuseProg: findProgram("fuse-overlayfs") });
}
