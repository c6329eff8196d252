// A stream passed through unchanged, its bytes counted as they go: transfer progress for pull and load.
export function counting(stream: ReadableStream<Uint8Array>, report: (n: number) => void): ReadableStream<Uint8Array> {
  let n = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        n += chunk.length;
        report(n);
        ctl.enqueue(chunk);
      },
    }),
  );
}
