// `hull export`: a container's root filesystem as one tar, docker's export.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "../sys/path";
import type { StorePaths } from "../store/paths";
import { onInterrupt } from "../sys/interrupt";
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
  if (out === "") throw new Error("-o needs a file name");
  let existing: import("node:fs").Stats | undefined;
  try {
    existing = statSync(out);
  } catch {}
  if (existing?.isDirectory()) throw new Error(`${out} is a directory: give -o a file name`);
  // a device or a pipe (-o /dev/null, -o /dev/stdout) is written as it is: nothing to rename
  const direct = existing !== undefined && !existing.isFile();
  const temp = direct ? out : join(dirname(out), `.${basename(out)}.hull-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(temp, direct ? "w" : "wx", 0o644);
  } catch (e) {
    throw new Error(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code} (is its directory there and writable?)`);
  }
  // Ctrl-C or SIGTERM: no half-written temporary file left beside OUT
  const done = onInterrupt(() => !direct && rmSync(temp, { force: true }));
  try {
    await fill({
      write: (chunk: Uint8Array) => {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
      },
      end: () => {
        try {
          fsyncSync(fd);
        } catch {} // a device or a pipe cannot be synced, and need not be
      },
    });
    closeSync(fd);
    if (!direct) renameSync(temp, out);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    if (!direct) rmSync(temp, { force: true });
    throw e;
  } finally {
    done();
  }
}
