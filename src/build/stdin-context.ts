// `hull build -`: stdin holds a tar of the context (plain or gzip), or a Dockerfile and no context.
// Either way the build gets a directory of the store's tmp/, removed when it is done.
import { compressionByMagic, isTarHeader } from "../image/magic";
import type { ImageStore } from "../image/store";
import { BuildError } from "./errors";
import { tmpEntry } from "../store/tmp";

/** FN with the context directory, and the Dockerfile's text when stdin held one instead of a tar. */
export async function withStdinContext<T>(
  store: ImageStore,
  fn: (dir: string, dockerfile?: string) => Promise<T>,
): Promise<T> {
  const input = await Bun.stdin.bytes();
  const { mkdirSync, rmSync } = await import("node:fs");
  mkdirSync(store.paths.tmp, { recursive: true });
  const dir = tmpEntry(store.paths, "context");
  mkdirSync(dir);
  try {
    const gzip = compressionByMagic(input) === "gzip";
    if (!gzip && !isTarHeader(input)) {
      return await fn(dir, new TextDecoder().decode(input));
    }
    const { unpackLayer } = await import("../image/unpack");
    let stream: ReadableStream<Uint8Array> = new Blob([input]).stream();
    if (gzip) stream = stream.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    try {
      await unpackLayer(stream, dir, {});
    } catch (e) {
      throw new BuildError(`the context on stdin is not a readable tar: ${(e as Error).message}`);
    }
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
