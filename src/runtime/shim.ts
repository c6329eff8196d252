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

let bytesRead: Promise<Uint8Array> | undefined;

/**
 * Start reading the shim's bytes, for a shimFd to come: the read (1-3 ms, on Bun's I/O threads) then
 * runs while the caller prepares the container, off `hull run`'s critical path.
 */
export function readShimSoon(): void {
  bytesRead ??= Bun.file(shimPath).bytes();
}

/** The shim as an executable memfd. CLOEXEC: exec of a memfd ELF needs no open descriptor after. */
export async function shimFd(cloexec = true): Promise<Fd> {
  readShimSoon();
  const bytes = await (bytesRead as Promise<Uint8Array>);
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
  /** the bytes of each output kept (what comes after is dropped) */
  limit = Number.POSITIVE_INFINITY,
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
  // a command that ignores SIGTERM: the shim goes 2 s later (its child then gets its death signal)
  const escalate = () => setTimeout(() => p.kill(9), 2000).unref();
  signal?.addEventListener("abort", escalate, { once: true });
  const [code, stdout, stderr] = await Promise.all([
    p.exited,
    p.stdout instanceof ReadableStream ? readCapped(p.stdout, limit, p.exited) : "",
    p.stderr instanceof ReadableStream ? readCapped(p.stderr, limit, p.exited) : "",
  ]);
  return { code, stdout, stderr };
}

/**
 * STREAM's text, its first LIMIT bytes only: the rest is read and dropped (a container's output may
 * be endless; the health check keeps 4 KiB of it, as docker does). Reading stops 200 ms after
 * EXITED: a process the command left in the background may hold the pipe open for ever.
 */
async function readCapped(stream: ReadableStream<Uint8Array>, limit: number, exited: Promise<number>): Promise<string> {
  const kept: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  // cleared once the stream ends, and unref'd: a pending timer kept every `hull rm` (which spawns the
  // shim) alive 200 ms after its work was done
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = exited.then(
    () =>
      new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), 200);
        timer.unref();
      }),
  );
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        reader.cancel().catch(() => {});
        break;
      }
      if (next.done) break;
      if (size >= limit) continue;
      const part = next.value.subarray(0, limit - size);
      kept.push(part);
      size += part.length;
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  return Buffer.concat(kept).toString("utf8");
}

/** Hand MESSAGE to the shim and become it. The shim reads the message from an inherited memfd. */
export async function execShim(message: Uint8Array, mode: "run" | "enter" | "attach" = "run"): Promise<never> {
  const exe = await shimFd();
  const msg = memfdCreate("hull-setup", 0);
  writeAll(msg, message);
  return execveat(exe, ["hull-shim", mode, String(msg)], []);
}
