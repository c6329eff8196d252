// A Worker that reads a layer blob, decompresses it and hashes what comes out (the layer's diff id),
// so that on a second core the unpacking thread does nothing but make files: gunzip and sha256 were
// a third of a cold pull when they ran on the thread that creates the files (GNU tar -z gets the
// same overlap from a gzip process of its own). Chunks go across by transfer, not copy, and the
// worker stops reading once WINDOW bytes are unacknowledged, so a large layer is never held whole.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { InflateReply, InflateRequest } from "./inflate-protocol";

declare const self: Worker;

const WINDOW = 8 * 1024 * 1024;
/** the follower's word for a download that failed (its temp file gone before the end) */
const STOPPED = "the layer's download stopped before its end";
let inFlight = 0;
let wake: (() => void) | undefined;

function post(reply: InflateReply, transfer?: ArrayBuffer[]): void {
  if (transfer) self.postMessage(reply, transfer);
  else self.postMessage(reply);
}

/**
 * The blob at PATH as a download writes it, up to SIZE bytes: a read at its end waits for more. The
 * writer removes the file when the download fails, so a file with no name left ends the wait. A
 * download that ended before this opened it has renamed it to DONE (and removed it from PATH).
 */
function followed(path: string, done: string, size: number): ReadableStream<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    try {
      fd = openSync(done, "r");
    } catch {
      throw new Error(STOPPED);
    }
  }
  let offset = 0;
  const close = () => closeSync(fd);
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      for (;;) {
        if (offset >= size) {
          close();
          ctl.close();
          return;
        }
        const buf = new Uint8Array(Math.min(1024 * 1024, size - offset));
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n > 0) {
          offset += n;
          ctl.enqueue(n === buf.length ? buf : buf.slice(0, n));
          return;
        }
        if (fstatSync(fd).nlink === 0) {
          close();
          ctl.error(new Error(STOPPED));
          return;
        }
        await Bun.sleep(5);
      }
    },
    cancel: close,
  });
}

async function inflate(req: Extract<InflateRequest, { blob: string }>): Promise<void> {
  let stream: ReadableStream<Uint8Array> =
    req.follow === undefined ? Bun.file(req.blob).stream() : followed(req.blob, req.follow.done, req.follow.size);
  if (req.compression !== "none")
    stream = stream.pipeThrough(
      new DecompressionStream(req.compression as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hasher.update(chunk);
    size += chunk.length;
    // a chunk that is a view on a larger buffer is copied, so the transfer gives away only its bytes
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    inFlight += own.length;
    post({ chunk: own }, [own.buffer as ArrayBuffer]);
    while (inFlight > WINDOW) await new Promise<void>((r) => (wake = r));
  }
  post({ end: { digest: `sha256:${hasher.digest("hex")}`, size } });
}

self.onmessage = (e: MessageEvent<InflateRequest>) => {
  const req = e.data;
  if ("ack" in req) {
    inFlight -= req.ack;
    if (inFlight <= WINDOW && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
    return;
  }
  inflate(req).catch((err: unknown) => post({ error: err instanceof Error ? err.message : String(err) }));
};
