// Tar streams out of a container: `hull cp CONTAINER:PATH -` (docker cp's form: entries named from
// PATH's parent) and `hull export` (the whole root filesystem, named from it). The tree is packed as
// root in the container's id range, so the tar carries the owners the container sees; the host side
// only passes the bytes on. In: `hull cp - CONTAINER:DIR` unpacks standard input in the store's tmp/
// (as the caller, so nothing in the stream can own or reach anything of the host's) and copies each
// top-level entry in as a host directory would be.
import { lstatSync, mkdirSync, readdirSync, readlinkSync, writeSync } from "node:fs";
import { dirname, join, relative } from "../sys/path";
import { createTarPacker } from "modern-tar";
import { removeTree } from "../image/layers";
import { unpackLayer } from "../image/unpack";
import { selfCommand, spawnInUserNamespace } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";
import { tmpEntry } from "../store/tmp";
import { ignoreBrokenPipe } from "../sys/libc";
import { copy, helperError, type LayerMount, splitContainerPath, withContainerRoot } from "./cp";
import { resolveInRoot } from "./rooted-fs";

/** Inside the user namespace: the tree at DIR as a tar on standard output, entries named from BASE. */
async function packToStdout(dir: string, base: string): Promise<void> {
  const { readable, controller } = createTarPacker();
  const sink = stdoutSink();
  const piping = (async () => {
    for await (const chunk of readable) await sink.write(chunk);
    await sink.end();
  })();
  // a file with several names is stored once, its other names as hard links to the first
  const seen = new Map<string, string>();
  const add = async (path: string) => {
    const st = lstatSync(path);
    const name = relative(base, path);
    const header = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      if (name) await controller.add({ ...header, name: `${name}/`, type: "directory", size: 0 }).close();
      // the kernel's files under a running container's /proc and /sys are no files to copy
      if (name === "proc" || name === "sys") return;
      for (const n of readdirSync(path).sort()) await add(join(path, n));
      return;
    }
    const inode = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? seen.get(inode) : undefined;
    if (first) return controller.add({ ...header, type: "link", size: 0, linkname: first }).close();
    if (st.nlink > 1) seen.set(inode, name);
    if (st.isSymbolicLink()) {
      await controller.add({ ...header, type: "symlink", size: 0, linkname: readlinkSync(path) }).close();
    } else if (st.isFile()) {
      await Bun.file(path)
        .stream()
        .pipeTo(controller.add({ ...header, size: st.size }));
    } else if (st.isFIFO()) {
      await controller.add({ ...header, type: "fifo", size: 0 }).close();
    }
    // sockets are not files a tar can hold (docker leaves them out too); device nodes are left out
    // because the tar writer has no device numbers, and a container cannot make one anyway
  };
  // a reader gone (EPIPE) fails the piping while add waits for room: the failure ends both
  const broken = piping.then(
    () => new Promise<never>(() => {}),
    (e) => Promise.reject(e),
  );
  try {
    await Promise.race([add(dir), broken]);
    controller.finalize();
  } catch (e) {
    controller.error(e);
    await piping.catch(() => {});
    throw e;
  }
  await piping;
}

/** Inside the namespace (`hull __pack`): PATH beneath ROOT, its links followed without leaving ROOT. */
export async function packInside(form: "cp" | "export", root: string, path: string): Promise<void> {
  // ROOT/. : a running container's root is /proc/PID/root, a link that lstat would not follow
  if (form === "export") return packToStdout(`${root}/.`, root);
  const inside = resolveInRoot(root, path);
  try {
    lstatSync(inside);
  } catch {
    throw new Error(`no such file or directory: ${path}`);
  }
  // CONTAINER:/ is named from the root itself: never the name of hull's mount point
  if (relative(root, inside) === "") return packToStdout(`${root}/.`, root);
  await packToStdout(inside, dirname(inside));
}

/**
 * The tar of container KEY's PATH (FORM cp) or whole root (FORM export), written to SINK. Export
 * reads the layers only: never the container's volumes, binds, /proc or /dev (docker's export).
 */
export async function packFromContainer(
  paths: StorePaths,
  key: string,
  form: "cp" | "export",
  path: string,
  sink: TarSink = stdoutSink(),
): Promise<void> {
  await withContainerRoot(
    paths,
    key,
    (root, mount, targetPid) => packTree({ form, root, path, mount, targetPid }, sink, `reading container ${key}`),
    form === "export",
  );
  await sink.end();
}

/**
 * PATH beneath ROOT (FORM cp) or all of ROOT (FORM export) packed as root in the user namespace
 * (with MOUNT made there first, or in the namespaces of TARGET_PID), the tar written to SINK.
 */
export async function packTree(
  t: { form: "cp" | "export"; root: string; path: string; mount?: LayerMount; targetPid?: number },
  sink: TarSink,
  what: string,
): Promise<void> {
  const p = await spawnInUserNamespace(
    [...selfCommand(), "__pack", t.form, t.root, t.path],
    {},
    "pipe",
    t.mount,
    t.targetPid,
  );
  const [code, stderr] = await Promise.all([
    p.exited,
    new Response(p.stderr as ReadableStream).text(),
    (async () => {
      for await (const chunk of p.stdout as ReadableStream<Uint8Array>) await sink.write(chunk);
    })(),
  ]);
  if (code !== 0) throw helperError(stderr, `${what} failed`);
}

export interface TarSink {
  write(chunk: Uint8Array): unknown;
  end(): unknown;
}

/**
 * Standard output, written through before the next chunk is taken: a slow reader holds the helper
 * back, not memory. Written with write(2) itself: Bun's own stdout writer let a reader that went
 * away (EPIPE) escape as an uncaught error, past the code that continues a paused container.
 */
export function stdoutSink(): TarSink {
  ignoreBrokenPipe();
  return {
    write(chunk) {
      for (let done = 0; done < chunk.length; ) {
        try {
          done += writeSync(1, chunk, done);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? "";
          if (code === "EAGAIN") {
            Bun.sleepSync(1);
            continue;
          }
          throw new Error(
            code === "EPIPE"
              ? "standard output was closed before the tar was written"
              : `cannot write standard output: ${code || (e as Error).message}`,
          );
        }
      }
    },
    end() {},
  };
}

export async function copyStream(paths: StorePaths, from: string, to: string): Promise<void> {
  if (to === "-") {
    const src = splitContainerPath(from);
    if (!src) throw new Error("hull cp SRC -: the source must be a container path (CONTAINER:PATH)");
    return packFromContainer(paths, src.container, "cp", src.path);
  }
  mkdirSync(paths.tmp, { recursive: true });
  const staging = tmpEntry(paths, "cp");
  mkdirSync(staging);
  try {
    // a tar on standard input, unpacked beneath the staging directory only (links, `..` and
    // absolute names are refused as for any layer), then copied in as a host directory would be
    const { Readable } = await import("node:stream");
    await unpackLayer(Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>, staging);
    for (const name of readdirSync(staging).sort()) await copy(paths, join(staging, name), to);
  } finally {
    await removeTree(staging).catch(() => {});
  }
}
