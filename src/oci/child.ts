// The shim as a child of hull oci, with hull oci's own stdio: a detached container, or a process
// exec'd into one, keeps that stdio once hull oci has returned, as runc's do.
import { dirname, resolve } from "../sys/path";
import { shimFd } from "../runtime/shim";
import { close, memfdCreate, writeAll } from "../sys/libc";

export class OciError extends Error {}

/** --pid-file's directory, checked before anything runs: a pid file that cannot be written would
 * leave a container nobody knows of */
export function checkPidFileDir(file: string): void {
  const { statSync } = require("node:fs") as typeof import("node:fs");
  const dir = dirname(resolve(file));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {}
  if (!ok) throw new OciError(`--pid-file ${file}: ${dir} is not a directory`);
}

/** The shim as a child with this process's stdio (the container keeps it), its message on fd 3. */
export async function spawnShim(
  message: Uint8Array,
  mode: "run" | "enter" | "hooks",
  args: string[] = [],
): Promise<number> {
  const exe = await shimFd(false);
  const msg = memfdCreate("hull-setup", 0);
  writeAll(msg, message);
  const p = Bun.spawn([`/proc/${process.pid}/fd/${exe}`, mode, ...args, "3"], {
    stdio: ["inherit", "inherit", "inherit", msg],
    argv0: "hull-shim",
  });
  const code = await p.exited;
  close(msg);
  close(exe);
  return code;
}
