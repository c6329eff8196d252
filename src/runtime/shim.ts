// Starts hull-shim (ffi/shim.c), which is compiled at build time and embedded in the binary: its
// bytes go into a sealed memfd, so nothing is written to disk and nothing on disk can be swapped in.
import shimPath from "../../build/hull-shim" with { type: "file" };
import {
  addSeals,
  execveat,
  type Fd,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  memfdCreate,
  writeAll,
} from "../sys/libc";

/** The shim as an executable memfd. CLOEXEC: exec of a memfd ELF needs no open descriptor after. */
export async function shimFd(cloexec = true): Promise<Fd> {
  const bytes = await Bun.file(shimPath).bytes();
  const fd = memfdCreate("hull-shim", (cloexec ? MFD_CLOEXEC : 0) | MFD_ALLOW_SEALING | MFD_EXEC);
  writeAll(fd, bytes);
  addSeals(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

/**
 * Run the shim as a child with MESSAGE on its stdin (`hull start`: the shim detaches a supervisor
 * and returns once the command started). Its stdout and stderr come back.
 */
export async function spawnShim(
  message: Uint8Array,
  args: string[] = ["run", "0"],
  toStderr = false,
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const exe = await shimFd(false);
  // aborted before the start: Bun kills a child only on an abort that comes after it
  if (signal?.aborted) return { code: 128 + 15, stdout: "", stderr: "" };
  // TO_STDERR: a build step's output goes to hull's stderr as it comes, as `docker build` shows it;
  // SIGNAL: aborting it sends the shim SIGTERM, which it passes on to the container
  const p = Bun.spawn([`/proc/${process.pid}/fd/${exe}`, ...args], {
    stdio: [message, toStderr ? 2 : "pipe", toStderr ? 2 : "pipe"],
    signal,
    killSignal: "SIGTERM",
  });
  const [code, stdout, stderr] = await Promise.all([
    p.exited,
    p.stdout instanceof ReadableStream ? new Response(p.stdout).text() : "",
    p.stderr instanceof ReadableStream ? new Response(p.stderr).text() : "",
  ]);
  return { code, stdout, stderr };
}

/** Hand MESSAGE to the shim and become it. The shim reads the message from an inherited memfd. */
export async function execShim(message: Uint8Array, mode: "run" | "enter" = "run"): Promise<never> {
  const exe = await shimFd();
  const msg = memfdCreate("hull-setup", 0);
  writeAll(msg, message);
  return execveat(exe, ["hull-shim", mode, String(msg)], []);
}
