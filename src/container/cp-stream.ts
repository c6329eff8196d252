// `hull cp CONTAINER:PATH -` and `hull cp - CONTAINER:DIR`: docker cp's tar streams. Both go through
// the ordinary copy and a directory of the store's tmp/: out, the path is copied there and packed
// to standard output; in, standard input is unpacked there (as the caller, so nothing in the stream
// can own or reach anything of the host's) and each top-level entry copied into the container.
import { lstatSync, mkdirSync, readdirSync, readlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { createTarPacker } from "modern-tar";
import { removeTree } from "../image/layers";
import { unpackLayer } from "../image/unpack";
import type { StorePaths } from "../store/paths";
import { tmpEntry } from "../store/tmp";
import { copy } from "./cp";

/** The tree at DIR as a tar on standard output, its entries named from DIR's parent (docker cp's form). */
async function packToStdout(dir: string): Promise<void> {
  const { readable, controller } = createTarPacker();
  const sink = Bun.stdout.writer();
  const piping = (async () => {
    for await (const chunk of readable) sink.write(chunk);
    await sink.end();
  })();
  const base = join(dir, "..");
  const add = async (path: string) => {
    const st = lstatSync(path);
    const name = relative(base, path);
    const header = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      await controller.add({ ...header, name: `${name}/`, type: "directory", size: 0 }).close();
      for (const n of readdirSync(path).sort()) await add(join(path, n));
    } else if (st.isSymbolicLink()) {
      await controller.add({ ...header, type: "symlink", size: 0, linkname: readlinkSync(path) }).close();
    } else if (st.isFile()) {
      await Bun.file(path)
        .stream()
        .pipeTo(controller.add({ ...header, size: st.size }));
    }
  };
  try {
    await add(dir);
    controller.finalize();
  } catch (e) {
    controller.error(e);
    await piping.catch(() => {});
    throw e;
  }
  await piping;
}

export async function copyStream(paths: StorePaths, from: string, to: string): Promise<void> {
  mkdirSync(paths.tmp, { recursive: true });
  const staging = tmpEntry(paths, "cp");
  mkdirSync(staging);
  try {
    if (to === "-") {
      await copy(paths, from, staging);
      const [only] = readdirSync(staging);
      if (only) await packToStdout(join(staging, only));
      return;
    }
    // a tar on standard input, unpacked beneath the staging directory only (links, `..` and
    // absolute names are refused as for any layer), then copied in as a host directory would be
    const { Readable } = await import("node:stream");
    await unpackLayer(Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>, staging);
    for (const name of readdirSync(staging).sort()) await copy(paths, join(staging, name), to);
  } finally {
    await removeTree(staging).catch(() => {});
  }
}
