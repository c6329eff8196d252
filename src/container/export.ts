// `hull export`: a container's root filesystem as one tar, docker's export.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { StorePaths } from "../store/paths";
import { packFromContainer, type TarSink } from "./cp-stream";

export async function exportContainer(paths: StorePaths, key: string, out: string): Promise<void> {
  if (out === "-") return packFromContainer(paths, key, "export", "/");
  await writeFileFrom(out, (sink) => packFromContainer(paths, key, "export", "/", sink));
}

/**
 * OUT written by FILL through a sink: under a temporary name beside it, renamed when whole, so an
 * interrupted or failed write never leaves a file that looks complete.
 */
export async function writeFileFrom(out: string, fill: (sink: TarSink) => Promise<void>): Promise<void> {
  const temp = join(dirname(out), `.${basename(out)}.hull-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(temp, "wx", 0o644);
  } catch (e) {
    throw new Error(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code} (is its directory there and writable?)`);
  }
  try {
    await fill({
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
