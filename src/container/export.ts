// `hull export`: a container's root filesystem as one tar, docker's export. To a file, it is written
// under a temporary name and renamed when whole, so an interrupted export never leaves a file that
// looks complete.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { StorePaths } from "../store/paths";
import { packFromContainer } from "./cp-stream";

export async function exportContainer(paths: StorePaths, key: string, out: string): Promise<void> {
  if (out === "-") return packFromContainer(paths, key, "export", "/");
  const temp = join(dirname(out), `.${basename(out)}.hull-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(temp, "wx", 0o644);
  } catch (e) {
    throw new Error(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code} (is its directory there and writable?)`);
  }
  try {
    await packFromContainer(paths, key, "export", "/", {
      write: (chunk: Uint8Array) => {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
      },
      end: () => fsyncSync(fd),
    });
    closeSync(fd);
    renameSync(temp, out);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(temp, { force: true });
    throw e;
  }
}
